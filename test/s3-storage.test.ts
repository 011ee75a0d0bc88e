import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createS3Client } from '../lambda/storage/s3-client.js';
import { S3Storage } from '../lambda/storage/s3-storage.js';
import { useLocalS3 } from './support/local-s3.js';
import { S3RequestLog } from './support/s3-request-log.js';

const s3 = useLocalS3();
let log: S3RequestLog;
let storage: S3Storage;

beforeAll(async () => {
  log = new S3RequestLog(s3);
  await s3.createBucket('unit');
  storage = new S3Storage(createS3Client(), 'unit');
});
afterAll(() => {
  storage.client.destroy();
});

/** Bytes that differ from one 64 KiB block to the next, so a reordered or dropped part shows. */
function pattern(size: number): Buffer {
  const bytes = Buffer.alloc(size);
  for (let i = 0; i + 4 <= size; i += 4) bytes.writeUInt32LE(Math.imul(i, 2654435761) >>> 0, i);
  return bytes;
}

describe('S3Storage', () => {
  it('reads a missing key as undefined, in full and as a stream', async () => {
    expect(await storage.read('nothing/here.json')).toBeUndefined();
    expect(await storage.readStream('nothing/here.json')).toBeUndefined();
  });

  it('a missing bucket is an error, not an absent object', async () => {
    const elsewhere = new S3Storage(storage.client, 'no-such-bucket');
    await expect(elsewhere.read('manifest.json')).rejects.toThrow(
      'S3 NoSuchBucket (404) on GetObject of s3://no-such-bucket/manifest.json',
    );
  });

  it('putIfAbsent writes once: true, then false, and the first body stays', async () => {
    expect(await storage.putIfAbsent('once/manifest.json', '{"n":1}')).toBe(true);
    expect(await storage.putIfAbsent('once/manifest.json', '{"n":2}')).toBe(false);
    expect((await storage.read('once/manifest.json'))?.toString()).toBe('{"n":1}');
  });

  it('lists across pages with a small limit, in key order, and folders with a delimiter', async () => {
    const keys = ['list/a/1', 'list/a/2', 'list/b/1', 'list/c', 'list/d', 'list/e', 'list/f/x/y'];
    for (const key of keys) await storage.putIfAbsent(key, key);
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await storage.list('list/', { limit: 2, token });
      expect(page.keys.length).toBeLessThanOrEqual(2);
      seen.push(...page.keys);
      token = page.nextToken;
      pages++;
    } while (token);
    expect(pages).toBe(4);
    expect(seen).toEqual([...keys].sort());

    const top = await storage.list('list/', { delimiter: '/' });
    expect(top.keys).toEqual(['list/c', 'list/d', 'list/e']);
    expect(top.prefixes).toEqual(['list/a/', 'list/b/', 'list/f/']);
  });

  it('a committed multipart writer stores exactly the bytes written, whatever the chunking', async () => {
    const bytes = pattern(19 * 1024 * 1024 + 7); // four parts of 5 MiB
    const writer = storage.createWriter('big/committed.bin');
    for (let at = 0; at < bytes.length; at += 1_000_003) await writer.write(bytes.subarray(at, at + 1_000_003));
    await writer.commit();
    expect((await storage.read('big/committed.bin'))?.equals(bytes)).toBe(true);
  });

  it('aborting a writer mid-way leaves no object and no open multipart upload', async () => {
    log.restart('unit');
    // Past one part, so a multipart upload is open when the abort comes.
    const writer = storage.createWriter('big/aborted.bin');
    const bytes = pattern(20 * 1024 * 1024);
    for (let at = 0; at < bytes.length; at += 1 << 20) await writer.write(bytes.subarray(at, at + (1 << 20)));
    await writer.abort();
    expect(log.requests('unit').some((r) => r.method === 'POST' && r.url.includes('?uploads'))).toBe(true);
    expect(s3.incompleteUploads('unit').length).toBe(0);
    expect(await storage.read('big/aborted.bin')).toBeUndefined();

    const small = storage.createWriter('small/aborted.csv');
    await small.write(Buffer.from('a,b\r\n'));
    await small.abort();
    expect(await storage.read('small/aborted.csv')).toBeUndefined();
    expect((await storage.list('small/')).keys).toEqual([]);
  });

  it('a failed part fails the writer and aborts its multipart upload', async () => {
    log.restart('unit', 2); // CreateMultipartUpload, then the first part
    const writer = storage.createWriter('big/failed.bin');
    const bytes = pattern(20 * 1024 * 1024);
    const written = (async () => {
      for (let at = 0; at < bytes.length; at += 1 << 20) await writer.write(bytes.subarray(at, at + (1 << 20)));
      await writer.commit();
    })();
    await expect(written).rejects.toThrow(
      /^S3 InjectedFault \(400\) on UploadPart 1 of s3:\/\/unit\/big\/failed\.bin$/,
    );
    await writer.abort();
    expect(log.requests('unit').find((r) => r.faulted)?.url).toMatch(/partNumber=1/);
    expect(s3.incompleteUploads('unit').length).toBe(0);
    log.restart('unit');
    expect(await storage.read('big/failed.bin')).toBeUndefined();
  });
});
