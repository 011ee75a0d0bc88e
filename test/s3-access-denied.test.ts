import { afterAll, beforeAll, expect, it } from 'vitest';
import { createS3Client } from '../lambda/storage/s3-client.js';
import { S3Storage } from '../lambda/storage/s3-storage.js';
import { useLocalS3 } from './support/local-s3.js';

// The deployed function may list only its root prefix. S3 then answers a GetObject of a missing
// key with 403 instead of 404; the local server is made to answer the same way here.
const s3 = useLocalS3();
let storage: S3Storage;

beforeAll(async () => {
  await s3.createBucket('limited');
  storage = new S3Storage(createS3Client(), 'limited');
  await storage.putIfAbsent('root/present.json', '{}');
  s3.failWhen((_n, method, url) => method === 'GET' && !url.includes('list-type'), {
    status: 403,
    code: 'AccessDenied',
  });
});
afterAll(() => {
  storage.client.destroy();
});

it('a 403 on a key that a listing does not show reads as absent', async () => {
  expect(await storage.read('root/missing.json')).toBeUndefined();
  expect(await storage.readStream('root/missing.json')).toBeUndefined();
});

it('a 403 on a key that exists stays an error', async () => {
  await expect(storage.read('root/present.json')).rejects.toThrow(
    'S3 AccessDenied (403) on GetObject of s3://limited/root/present.json',
  );
});

it('without permission to list multipart uploads, removing stale ones removes none and does not fail the run', async () => {
  expect(await storage.removeStale('root/dataset', 0)).toBe(0);
});
