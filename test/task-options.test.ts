import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GenerationConfigInput } from '../lambda/config/schema.js';
import { parseConfig } from '../lambda/validation/validate.js';
import { SCHEMA_FILE, type DatasetSchema } from '../lambda/dataset/dataset-schema.js';
import type { Manifest } from '../lambda/dataset/manifest.js';
import { DatasetFileError } from '../lambda/dataset/dataset-csv.js';
import { openTaskDataset } from '../lambda/evaluation/task-dataset.js';
import { runFanoutLocally } from '../lambda/fanout/fanout-steps.js';
import { publishDataset, type PublishOptions } from '../lambda/publish/publish-dataset.js';
import { UPLOAD_50GB_TASK_FILE } from '../lambda/rows/task-files.js';
import { REPORT_FILES } from '../lambda/publish/report-files.js';
import { LocalFolderStorage } from '../lambda/storage/local-folder-storage.js';
import { createS3Client } from '../lambda/storage/s3-client.js';
import { S3Storage } from '../lambda/storage/s3-storage.js';
import { startLocalS3, type LocalS3 } from './support/local-s3.js';
import { runCli } from './support/run-cli.js';

/**
 * The task options that make a dataset smaller on purpose: `tasks.userFraction` (task rows for a
 * sample of users) and `tasks.enabled: false` (no task file). The sample depends on the config
 * and the user id only: the same bytes from one thread, blocks of users, or fan-out shards.
 */

const TASK = UPLOAD_50GB_TASK_FILE.file;
let root: string;
let s3: LocalS3;
beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'tierdrift-task-options-'));
  s3 = await startLocalS3();
  s3.useAsSdkEndpoint();
  await s3.createBucket('task-options');
});
afterAll(async () => {
  await s3.stop();
  rmSync(root, { recursive: true, force: true });
});

interface Published {
  dir: string;
  manifest: Manifest;
  /** A file's bytes by its name in the dataset. */
  read(name: string): Buffer;
}

let runs = 0;
async function publishLocal(input: GenerationConfigInput, options: Partial<PublishOptions> = {}): Promise<Published> {
  const base = join(root, `run-${runs++}`);
  const outcome = await publishDataset(parseConfig(input), { storage: new LocalFolderStorage(base), ...options });
  const dir = join(base, outcome.prefix);
  return { dir, manifest: outcome.manifest, read: (name) => readFileSync(join(dir, name)) };
}

async function publishFanout(input: GenerationConfigInput): Promise<Manifest> {
  const storage = new S3Storage(createS3Client(), 'task-options');
  const outcome = await runFanoutLocally(parseConfig(input), storage, {
    shardUsers: 150,
    minPartBytes: 0,
    root: `fanout-${runs++}`,
  });
  return outcome!.manifest;
}

/** name → sha256 of every file the manifest lists, but those named. */
const digests = (m: Manifest, ...except: string[]) =>
  Object.fromEntries(m.files.filter((f) => !except.includes(f.name)).map((f) => [f.name, f.sha256]));
const sha256Of = (m: Manifest, name: string) => m.files.find((f) => f.name === name)?.sha256;

/** The task file's rows (without header), grouped by user id. */
function rowsByUser(bytes: Buffer): Map<number, string[]> {
  const byUser = new Map<number, string[]>();
  for (const line of bytes.toString('latin1').split('\r\n').slice(1, -1)) {
    const user = Number(line.slice(0, line.indexOf(',')));
    byUser.set(user, [...(byUser.get(user) ?? []), line]);
  }
  return byUser;
}

describe('tasks.userFraction: task rows for a sample of users', () => {
  const base = { engine: 'seedrandom', seed: 9, users: 600 } as const;
  const sampled = { ...base, tasks: { userFraction: 0.3 } };

  it('the same bytes from one thread, blocks of users and fan-out shards', async () => {
    const single = await publishLocal(sampled);
    const blocks = await publishLocal(sampled, { workers: 3, blockUsers: 40 });
    const fanout = await publishFanout(sampled);
    expect(digests(blocks.manifest)).toEqual(digests(single.manifest));
    expect(digests(fanout)).toEqual(digests(single.manifest));
  }, 120_000);

  it("a sampled user's rows are exactly its rows with every user; the others have none; about the fraction of users", async () => {
    const all = await publishLocal(base);
    const part = await publishLocal(sampled);
    const full = rowsByUser(all.read(TASK));
    const some = rowsByUser(part.read(TASK));
    expect(full.size).toBe(600);
    // 600 draws at 0.3: 180 expected, sd 11.
    expect(some.size).toBeGreaterThan(130);
    expect(some.size).toBeLessThan(230);
    for (const [user, rows] of some) expect(rows, `user ${user}`).toEqual(full.get(user));
    // Every other data file is the same: the option only thins the task file (the report, which
    // draws the task, and schema.json, which states the option, differ by design).
    expect(digests(part.manifest, TASK, SCHEMA_FILE, ...REPORT_FILES)).toEqual(
      digests(all.manifest, TASK, SCHEMA_FILE, ...REPORT_FILES),
    );
    expect(sha256Of(part.manifest, TASK)).not.toBe(sha256Of(all.manifest, TASK));
    const schema = JSON.parse(part.read(SCHEMA_FILE).toString('utf8')) as DatasetSchema;
    expect(schema.tasks[0].users.fraction).toBe(0.3);
  }, 60_000);

  it('nested: a smaller fraction samples a subset of a larger one; another seed, other users', async () => {
    const users = (input: GenerationConfigInput) =>
      publishLocal(input).then((p) => new Set(rowsByUser(p.read(TASK)).keys()));
    const third = await users(sampled);
    const tenth = await users({ ...base, tasks: { userFraction: 0.1 } });
    expect(tenth.size).toBeGreaterThan(0);
    expect(tenth.size).toBeLessThan(third.size);
    for (const u of tenth) expect(third.has(u), `user ${u}`).toBe(true);
    const otherSeed = await users({ ...sampled, seed: 10 });
    expect(otherSeed).not.toEqual(third);
  }, 60_000);
});

describe('tasks.enabled false: no task file', () => {
  const input = { engine: 'seedrandom', seed: 4, users: 400, openEndedTiers: true } as const;
  const off = { ...input, tasks: { enabled: false } };

  it('no task file written or listed; schema.json has no task; every other file as with tasks', async () => {
    const withTasks = await publishLocal(input);
    const without = await publishLocal(off);
    expect(existsSync(join(without.dir, TASK))).toBe(false);
    expect(existsSync(join(without.dir, 'tasks'))).toBe(false);
    const names = without.manifest.files.map((f) => f.name);
    expect(names).toEqual(withTasks.manifest.files.map((f) => f.name).filter((n) => n !== TASK));
    const schema = JSON.parse(without.read(SCHEMA_FILE).toString('utf8')) as DatasetSchema;
    expect(schema.tasks).toEqual([]);
    const dataFiles = names.filter((n) => n !== SCHEMA_FILE && !(REPORT_FILES as readonly string[]).includes(n));
    expect(schema.tables.map((t) => t.file)).toEqual(dataFiles);
    expect(digests(without.manifest, SCHEMA_FILE, ...REPORT_FILES)).toEqual(
      digests(withTasks.manifest, TASK, SCHEMA_FILE, ...REPORT_FILES),
    );
  }, 60_000);

  it('a fan-out run writes the same files', async () => {
    const single = await publishLocal(off);
    expect(digests(await publishFanout(off))).toEqual(digests(single.manifest));
  }, 120_000);

  it('the CLI on two threads (the reference engine splits the tables between them) writes the same files, report included', async () => {
    const reference = { ...off, engine: 'reference' as const };
    const single = await publishLocal(reference);
    const dest = join(root, `cli-${runs++}`);
    const config = join(root, `cli-config-${runs++}.json`);
    writeFileSync(config, JSON.stringify(reference));
    const run = await runCli(['generate', '--config', config, '--workers', '2', '--dest', dest]);
    expect(run.code, run.stderr).toBe(0);
    const manifest = JSON.parse(
      readFileSync(join(dest, single.manifest.datasetId.replace(/^seed-(\d+)-/, 'seed=$1/'), 'manifest.json'), 'utf8'),
    ) as Manifest;
    expect(manifest.files.map((f) => f.name)).toContain('report.html');
    expect(digests(manifest)).toEqual(digests(single.manifest));
  }, 120_000);

  it('evaluate and baseline refuse it with a clear error (exit 2)', async () => {
    const { dir } = await publishLocal(off);
    const storage = new LocalFolderStorage(dir);
    await expect(openTaskDataset(storage, '')).rejects.toThrow(DatasetFileError);
    await expect(openTaskDataset(storage, '')).rejects.toThrow(/generated with tasks\.enabled false/);
    const predictions = join(root, 'predictions.csv');
    writeFileSync(predictions, 'user_id,anchor_time,probability\r\n');
    for (const args of [
      ['baseline', dir, '--kind', 'tier-aware', '--out', predictions],
      ['evaluate', dir, '--predictions', predictions],
    ]) {
      const run = await runCli(args);
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr).toMatch(/has no task to score or predict: it was generated with tasks\.enabled false/);
    }
  }, 60_000);
});
