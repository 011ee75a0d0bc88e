import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configHash } from '../lambda/config/dataset-id.js';
import { parseConfig } from '../lambda/validation/validate.js';
import { createS3Client } from '../lambda/storage/s3-client.js';
import { S3Storage } from '../lambda/storage/s3-storage.js';
import { useLocalS3 } from './support/local-s3.js';
import { runCli } from './support/run-cli.js';
import { EXPECTED_FILES } from './support/expected-files.js';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const HASH = configHash(parseConfig({ users: 30, seed: 8 }));
const PREFIX = `seed=8/${HASH}`;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

const s3 = useLocalS3();
let client: ReturnType<typeof createS3Client>;
let root: string;

/** Runs the real CLI (`node bin/tierdrift.mjs ...`) with the SDK's environment pointing at the local server. */
function cli(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['bin/tierdrift.mjs', ...args],
      { cwd: REPO, env: { ...process.env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr });
      },
    );
  });
}

async function keys(bucket: string, prefix = ''): Promise<string[]> {
  const storage = new S3Storage(client, bucket);
  const all: string[] = [];
  let token: string | undefined;
  do {
    const page = await storage.list(prefix, { token });
    all.push(...page.keys);
    token = page.nextToken;
  } while (token);
  return all.sort();
}

const tmp = (name: string): string => join(root, name);
const tree = (dir: string): string[] =>
  existsSync(dir) ? (readdirSync(dir, { recursive: true }) as string[]).sort() : [];

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'tierdrift-cli-s3-'));
  client = createS3Client();
  for (const bucket of ['data', 'tamper', 'empty']) await s3.createBucket(bucket);
});
afterAll(() => {
  client.destroy();
  rmSync(root, { recursive: true, force: true });
});

describe.concurrent('generate --dest s3://, verify, fetch, tiers', () => {
  let first: Run;
  let local: Run;

  beforeAll(async () => {
    [first, local] = await Promise.all([
      cli('generate', '--users', '30', '--seed', '8', '--dest', 's3://data/tierdrift'),
      cli('generate', '--users', '30', '--seed', '8', '--dest', tmp('local')),
    ]);
  });

  it('publishes under s3://bucket/<root>/seed=<seed>/<hash>/ and prints where, without the SDK’s Node version warning', async () => {
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`published seed-8-${HASH}`);
    expect(first.stdout).toContain(`path:    s3://data/tierdrift/${PREFIX}`);
    expect(await keys('data')).toEqual(
      [...EXPECTED_FILES, 'manifest.json'].map((f) => `tierdrift/${PREFIX}/${f}`).sort(),
    );
    expect(local.code).toBe(0);
  });

  it('a second run finds the manifest and regenerates nothing', async () => {
    const again = await cli('generate', '--users', '30', '--seed', '8', '--dest', 's3://data/tierdrift');
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/is already published; not regenerated/);
  });

  it('verify s3://…: exit 0, every file ok', async () => {
    const run = await cli('verify', `s3://data/tierdrift/${PREFIX}`);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/all 9 files verified/);
  });

  it('report s3://…: the report rendered again from the bucket is the report.html of the folder run', async () => {
    const out = tmp('report-again.html');
    const run = await cli('report', `s3://data/tierdrift/${PREFIX}`, '-o', out);
    expect(run.code, run.stderr).toBe(0);
    expect(readFileSync(out).equals(readFileSync(join(tmp('local'), 'seed=8', HASH, 'report.html')))).toBe(true);
  });

  it('fetch: the downloaded files are the bytes of the folder output of the same config', async () => {
    const out = tmp('fetched/deeper');
    const run = await cli('fetch', `s3://data/tierdrift/${PREFIX}`, '--out', out);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/all 9 files fetched and verified/);
    // Subfolders (truth/, tasks/) recreated under --out.
    expect(tree(out)).toEqual(['truth', 'tasks', ...EXPECTED_FILES, 'manifest.json'].sort());
    const folder = join(tmp('local'), 'seed=8', HASH);
    for (const file of EXPECTED_FILES)
      expect(readFileSync(join(out, file)).equals(readFileSync(join(folder, file))), file).toBe(true);
    const manifest = (dir: string) => JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    expect(manifest(out).files).toEqual(manifest(folder).files);
  });

  it('the scheme is case-insensitive: S3:// publishes to, verifies and reads from the bucket; no local folder `S3:`', async () => {
    const cwd = tmp('upper-case-cwd');
    mkdirSync(cwd);
    const generate = await runCli(['generate', '--users', '30', '--seed', '8', '--dest', 'S3://data/upper'], {}, cwd);
    expect(generate.code, generate.stderr).toBe(0);
    expect(generate.stdout).toContain(`path:    s3://data/upper/${PREFIX}`);
    expect(await keys('data', 'upper/')).toEqual(
      [...EXPECTED_FILES, 'manifest.json'].map((f) => `upper/${PREFIX}/${f}`).sort(),
    );
    const [verify, tiers, fetched] = await Promise.all([
      runCli(['verify', `S3://data/upper/${PREFIX}`], {}, cwd),
      runCli(['tiers', `S3://data/upper/${PREFIX}`, '--user', '29'], {}, cwd),
      runCli(['fetch', `s3://data/upper/${PREFIX}`.replace('s3', 'S3'), '--out', tmp('upper-fetched')], {}, cwd),
    ]);
    expect([verify.code, tiers.code, fetched.code]).toEqual([0, 0, 0]);
    expect(verify.stdout).toMatch(/all 9 files verified/);
    expect(tiers.stdout).toMatch(/^user 29: /);
    expect(tree(cwd)).toEqual([]);
  });

  it('tiers s3://… prints the same timeline as from the folder', async () => {
    const [fromS3, fromFolder] = await Promise.all([
      cli('tiers', `s3://data/tierdrift/${PREFIX}`, '--user', '29'),
      cli('tiers', join(tmp('local'), 'seed=8', HASH), '--user', '29'),
    ]);
    expect(fromS3.code, fromS3.stderr).toBe(0);
    expect(fromS3.stdout).toBe(fromFolder.stdout);
  });
});

describe('a damaged or incomplete dataset in S3', () => {
  const dataset = `s3://tamper/t/${PREFIX}`;
  const key = (file: string) => `t/${PREFIX}/${file}`;

  beforeAll(async () => {
    const run = await cli('generate', '--users', '30', '--seed', '8', '--dest', 's3://tamper/t');
    expect(run.code).toBe(0);
  });

  it('an overwritten CSV: verify and fetch fail naming it; fetch leaves neither it nor a manifest behind', async () => {
    const original = await new S3Storage(client, 'tamper').read(key('uploads.csv'));
    const changed = Buffer.from(original!);
    changed[changed.length - 5] ^= 1;
    await client.send(new PutObjectCommand({ Bucket: 'tamper', Key: key('uploads.csv'), Body: changed }));
    const out = tmp('tampered');
    const [verify, fetch] = await Promise.all([cli('verify', dataset), cli('fetch', dataset, '--out', out)]);
    expect(verify.code).toBe(1);
    expect(verify.stdout).toMatch(/^MISMATCH +uploads\.csv/m);
    expect(fetch.code).toBe(1);
    expect(fetch.stderr).toMatch(/^error: uploads\.csv: does not match the manifest/m);
    // The files before it arrived intact; no part of uploads.csv, no temp file, no manifest.
    expect(tree(out)).toEqual(['items.csv', 'tiers.csv', 'users.csv']);
    await client.send(new PutObjectCommand({ Bucket: 'tamper', Key: key('uploads.csv'), Body: original }));
  });

  it('a deleted CSV: verify and fetch fail naming it', async () => {
    await client.send(new DeleteObjectCommand({ Bucket: 'tamper', Key: key('tiers.csv') }));
    const out = tmp('deleted');
    const [verify, fetch] = await Promise.all([cli('verify', dataset), cli('fetch', dataset, '--out', out)]);
    expect(verify.code).toBe(1);
    expect(verify.stdout).toMatch(/^MISSING +tiers\.csv/m);
    expect(fetch.code).toBe(1);
    expect(fetch.stderr).toMatch(/^error: tiers\.csv: listed in the manifest but missing/m);
    expect(tree(out)).toEqual(['users.csv']);
  });

  it('no manifest: fetch refuses with exit 1 and writes nothing under --out; verify fails', async () => {
    await client.send(new DeleteObjectCommand({ Bucket: 'tamper', Key: key('manifest.json') }));
    const out = tmp('incomplete');
    const [verify, fetch] = await Promise.all([cli('verify', dataset), cli('fetch', dataset, '--out', out)]);
    expect(verify.code).toBe(1);
    expect(verify.stdout).toMatch(/INCOMPLETE: no manifest\.json/);
    expect(fetch.code).toBe(1);
    expect(fetch.stderr).toMatch(
      /no manifest\.json at s3:\/\/tamper\/t\/seed=8\/[0-9a-f]{16}: not a published dataset/,
    );
    expect(existsSync(out)).toBe(false);
  });
});

describe.concurrent('bad input with an s3:// location', () => {
  it('a bad config: exit 2, and the bucket stays empty', async () => {
    const file = tmp('bad.json');
    writeFileSync(file, JSON.stringify({ users: 0, seed: -1 }));
    const run = await cli('generate', '--config', file, '--dest', 's3://empty/root');
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/- users: must be an integer/);
    expect(await keys('empty')).toEqual([]);
  });

  it('a malformed s3:// URI: exit 2, naming the rule', async () => {
    const runs = await Promise.all([
      cli('generate', '--users', '3', '--dest', 's3://Bad_Bucket/root'),
      cli('fetch', 's3://data', '--out', tmp('never')), // a bucket without the dataset's prefix
    ]);
    for (const run of runs) {
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(
        /not a valid S3 location: (bucket name "Bad_Bucket" may contain only lowercase letters|expected s3:\/\/<bucket>\/<dataset prefix>)/,
      );
    }
    expect(existsSync(tmp('never'))).toBe(false);
  });

  it('fetch --out that is a file: exit 2, the file untouched', async () => {
    const file = tmp('out-file');
    writeFileSync(file, 'keep');
    const run = await cli('fetch', `s3://data/tierdrift/${PREFIX}`, '--out', file);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--out .*exists and is not a folder/);
    expect(readFileSync(file, 'utf8')).toBe('keep');
  });

  it('a bucket that does not exist: exit 1 with one line from S3, not a stack trace', async () => {
    const run = await cli('generate', '--users', '3', '--dest', 's3://no-such-bucket/root');
    expect(run.code).toBe(1);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr.trim()).toMatch(
      /^error: S3 NoSuchBucket \(404\) on GetObject of s3:\/\/no-such-bucket\/root\/seed=\d+\/[0-9a-f]+\/manifest\.json$/,
    );
  });
});

describe("bucket names are checked against S3's naming rules up front: exit 2 naming the rule, no request, nothing written", () => {
  const BROKEN: Array<[bucket: string, rule: RegExp]> = [
    ['my..bucket', /must not contain two adjacent periods/],
    ['ab', /must be 3 to 63 characters long/],
    ['a'.repeat(64), /must be 3 to 63 characters long/],
    ['My-Bucket', /may contain only lowercase letters, digits, dots \(\.\) and hyphens \(-\)/],
    ['bucket-', /must begin and end with a letter or digit/],
    ['192.168.5.4', /must not be formatted as an IP address/],
    ['xn--bucket', /must not start with xn--, sthree- or amzn-s3-demo-/],
    ['amzn-s3-demo-bucket', /must not start with/],
    ['bucket--table-s3', /must not end with -s3alias, --ol-s3, \.mrap, --x-s3 or --table-s3/],
    ['bucket.mrap', /must not end with/],
  ];

  it('generate --dest, verify, fetch, tiers, baseline, evaluate', async () => {
    const cwd = tmp('bad-bucket-cwd');
    mkdirSync(cwd);
    const predictions = tmp('predictions.csv');
    writeFileSync(predictions, 'user_id,anchor_time,probability\n');
    const before = s3.requests;
    const runs = await Promise.all([
      ...BROKEN.map(([bucket]) => runCli(['generate', '--users', '3', '--dest', `s3://${bucket}/root`], {}, cwd)),
      runCli(['verify', 's3://my..bucket/x/y'], {}, cwd),
      runCli(['fetch', 'S3://my..bucket/x/y', '--out', 'fetched'], {}, cwd),
      runCli(['tiers', 's3://my..bucket/x/y', '--user', '1'], {}, cwd),
      runCli(['baseline', 's3://my..bucket/x/y', '--kind', 'tier-blind', '--out', 'p.csv'], {}, cwd),
      runCli(['evaluate', 's3://my..bucket/x/y', '--predictions', predictions], {}, cwd),
    ]);
    BROKEN.forEach(([bucket, rule], i) => {
      expect(runs[i].code, runs[i].stderr).toBe(2);
      expect(runs[i].stderr).toMatch(
        new RegExp(
          `^error: --dest s3://${bucket.replace(/\./g, '\\.')}/root: not a valid S3 location: bucket name "[^"]+" `,
        ),
      );
      expect(runs[i].stderr).toMatch(rule);
      expect(runs[i].stderr.trim().split('\n')).toHaveLength(1);
    });
    for (const run of runs.slice(BROKEN.length)) {
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr).toMatch(
        /^error: dataset s3:\/\/my\.\.bucket\/x\/y: not a valid S3 location: bucket name "my\.\.bucket" must not contain two adjacent periods\n$/i,
      );
    }
    expect(s3.requests).toBe(before);
    expect(tree(cwd)).toEqual([]);
  });
});

describe.concurrent(
  'an S3 endpoint that refuses or resets connections: one line and exit 1; the stack with --debug',
  () => {
    const STACK_FRAME = /^\s+at /m;
    let closedPort: number;
    let resetting: Server;
    const listen = async (server: Server): Promise<number> => {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return (server.address() as AddressInfo).port;
    };
    const generateAt = (port: number, ...flags: string[]) =>
      runCli([...flags, 'generate', '--users', '3', '--dest', 's3://data/unreachable'], {
        AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${port}`,
      });

    beforeAll(async () => {
      const probe = createServer();
      closedPort = await listen(probe);
      await new Promise((resolve) => probe.close(resolve));
      resetting = createServer((socket) => socket.resetAndDestroy());
      await listen(resetting);
    });
    afterAll(async () => {
      await new Promise((resolve) => resetting.close(resolve));
    });

    it('connection refused', async () => {
      const run = await generateAt(closedPort);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/^error: [^\n]*ECONNREFUSED[^\n]*\n$/);
    });

    it('connection reset', async () => {
      const run = await generateAt((resetting.address() as AddressInfo).port);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/^error: [^\n]*ECONNRESET[^\n]*\n$/);
    });

    it('--debug: the same line, then the stack', async () => {
      const run = await generateAt(closedPort, '--debug');
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/^error: [^\n]*ECONNREFUSED[^\n]*\n/);
      expect(run.stderr).toMatch(STACK_FRAME);
    });
  },
);
