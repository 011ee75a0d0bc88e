import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { datasetAddress } from '../lambda/config/dataset-id.js';
import { parseConfig } from '../lambda/validation/validate.js';
import type { DatasetDescription } from '../lambda/catalog/describe-dataset.js';
import type { Manifest } from '../lambda/dataset/manifest.js';
import { GENERATE_JOB_KIND } from '../lambda/handler/background-job.js';
import { FailedChecksError, publishDataset } from '../lambda/publish/publish-dataset.js';
import { LocalFolderStorage } from '../lambda/storage/local-folder-storage.js';
import { apiEvent, createHarness, withRequest } from './support/handler-harness.js';
import { useLocalS3 } from './support/local-s3.js';

/**
 * A reference-engine config whose bytes show the truncation artifact (found by a seed search and
 * pinned: the bytes are deterministic): 3 premium→free users uploading 50 GB files every 10 s on
 * average, so an upload in the fraction of a second before a downgrade is likely; seed 2 has one.
 */
const ARTIFACT = JSON.parse(
  readFileSync(new URL('./fixtures/truncation-artifact.json', import.meta.url), 'utf8'),
) as Record<string, unknown>;
const artifactConfig = parseConfig(ARTIFACT);
const NOTE = /reference engine keeps sub-second times and writes them truncated.*"engine": "seedrandom"/;

let root: string;
const s3 = useLocalS3();
beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'tierdrift-strict-'));
});
afterAll(async () => {
  rmSync(root, { recursive: true, force: true });
});

/** Every file (not folder) under `dir`, relative. */
const filesUnder = (dir: string): string[] =>
  (
    readdirSync(dir, { recursive: true, withFileTypes: true }) as Array<{
      isFile(): boolean;
      parentPath: string;
      name: string;
    }>
  )
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();

describe('the reference engine truncation artifact: explained, and refused by strict runs', () => {
  it('the pinned config fails no_50gb_while_free with the reference engine, and the manifest entry says why and how to avoid it', async () => {
    const dir = join(root, 'plain');
    const { manifest } = await publishDataset(artifactConfig, { storage: new LocalFolderStorage(dir) });
    const failed = manifest.checks.filter((c) => !c.passed);
    expect(failed.map((c) => c.name)).toEqual(['no_50gb_while_free']);
    expect(failed[0].note).toMatch(NOTE);
    // Additive: every other entry keeps its shape, and the manifest on disk carries the note too.
    expect(manifest.checks.filter((c) => c.passed).every((c) => !('note' in c))).toBe(true);
    const written = JSON.parse(
      readFileSync(join(dir, datasetAddress(artifactConfig).prefix, 'manifest.json'), 'utf8'),
    ) as Manifest;
    expect(written.checks).toEqual(manifest.checks);
  });

  it('the same config with engine seedrandom passes every check, with no note', async () => {
    const { manifest } = await publishDataset(parseConfig({ ...ARTIFACT, engine: 'seedrandom' }), {
      storage: new LocalFolderStorage(join(root, 'seedrandom')),
    });
    expect(manifest.checksPassed).toBe(true);
    expect(manifest.checks.some((c) => 'note' in c)).toBe(false);
  });

  it('strict: FailedChecksError naming the check, and no file left (no manifest, no CSV, no temp file)', async () => {
    const dir = join(root, 'strict');
    const run = publishDataset(artifactConfig, { storage: new LocalFolderStorage(dir), strict: true });
    await expect(run).rejects.toBeInstanceOf(FailedChecksError);
    const error = (await run.catch((e: unknown) => e)) as FailedChecksError;
    expect(error.alreadyPublished).toBe(false);
    expect(error.failed.map((c) => c.name)).toEqual(['no_50gb_while_free']);
    expect(error.failed[0].note).toMatch(NOTE);
    expect(error.message).toBe(
      `${datasetAddress(artifactConfig).datasetId}: integrity checks failed: no_50gb_while_free (1 violation); nothing published (strict)`,
    );
    expect(filesUnder(dir)).toEqual([]);
  });

  it('strict over a dataset already published with failed checks: refused without regenerating; a clean dataset publishes', async () => {
    const dir = join(root, 'plain');
    const before = filesUnder(dir).map((f) => [f, readFileSync(join(dir, f)).toString('base64')]);
    const error = (await publishDataset(artifactConfig, { storage: new LocalFolderStorage(dir), strict: true }).catch(
      (e: unknown) => e,
    )) as FailedChecksError;
    expect(error).toBeInstanceOf(FailedChecksError);
    expect(error.alreadyPublished).toBe(true);
    expect(error.message).toMatch(
      /is already published with failed integrity checks: no_50gb_while_free \(1 violation\); not regenerated/,
    );
    expect(filesUnder(dir).map((f) => [f, readFileSync(join(dir, f)).toString('base64')])).toEqual(before);

    const clean = await publishDataset(parseConfig({ users: 20 }), {
      storage: new LocalFolderStorage(dir),
      strict: true,
    });
    expect([clean.status, clean.manifest.checksPassed]).toEqual(['created', true]);
  });
});

describe('POST /datasets?strict=true through the real handler', () => {
  const POST = apiEvent('api-post-default.json');
  const post = (query: Record<string, string> | null) =>
    withRequest(POST, { body: JSON.stringify(ARTIFACT), queryStringParameters: query });
  const { datasetId, prefix } = datasetAddress(artifactConfig);

  it('422 naming the failed check and why, nothing in the bucket; without strict 201, the note in the answer; then strict=true 422 "already published"', async () => {
    const h = await createHarness(s3);
    const refused = await h.api(post({ strict: 'true' }));
    expect(refused.statusCode).toBe(422);
    expect(refused.json.message).toBe(
      `${datasetId}: integrity checks failed: no_50gb_while_free (1 violation); nothing published (strict)`,
    );
    const errors = refused.json.errors as Array<{ field: string; rule: string }>;
    expect(errors.map((e) => e.field)).toEqual(['checks.no_50gb_while_free']);
    expect(errors[0].rule).toMatch(
      /^no 50 GB upload while the user is free: 1 violation\(s\), e\.g\. txn_id=\d+ user_id=\d+ .*Why: the reference engine/,
    );
    expect(errors[0].rule).toMatch(NOTE);
    // Only the run's ended marker (single flight), saying why it published nothing.
    expect(await h.keys()).toEqual([`tierdrift/${prefix}/_run.json`]);
    expect(JSON.parse(String(await h.storage.read(`tierdrift/${prefix}/_run.json`)))).toMatchObject({
      datasetId,
      endedAt: expect.any(String),
      error: expect.stringMatching(/integrity checks failed/),
    });
    expect(s3.incompleteUploads(h.bucket)).toEqual([]);

    const created = await h.api(post({ strict: 'false' }));
    expect(created.statusCode).toBe(201);
    const check = (created.json as unknown as DatasetDescription).manifest.checks.find(
      (c) => c.name === 'no_50gb_while_free',
    )!;
    expect([check.passed, check.note]).toEqual([false, expect.stringMatching(NOTE)]);
    const get = await h.api(withRequest(POST, { httpMethod: 'GET', path: `/datasets/${datasetId}`, body: null }));
    expect((get.json as unknown as DatasetDescription).manifest.checks).toEqual(
      (created.json as unknown as DatasetDescription).manifest.checks,
    );

    const keys = await h.keys();
    const again = await h.api(post({ strict: 'true' }));
    expect(again.statusCode).toBe(422);
    expect(again.json.message).toMatch(/is already published with failed integrity checks: no_50gb_while_free/);
    expect(again.headers?.Location).toBe(`/prod/datasets/${datasetId}`);
    expect(await h.keys()).toEqual(keys);
  });

  it('strict=yes is 400 naming strict; nothing written', async () => {
    const h = await createHarness(s3);
    const response = await h.api(post({ strict: 'yes' }));
    expect(response.statusCode).toBe(400);
    expect(response.json.errors).toEqual([{ field: 'strict', rule: 'must be true or false' }]);
    expect(await h.keys()).toEqual([]);
  });

  it('a background job carries strict: the job refuses without publishing, without a retry, and its run marker says why', async () => {
    const h = await createHarness(s3, { SYNC_MAX_USERS: '0' });
    const accepted = await h.api(post({ strict: 'true' }));
    expect(accepted.statusCode).toBe(202);
    expect(h.jobs).toEqual([
      { kind: GENERATE_JOB_KIND, config: artifactConfig, requestedAt: expect.any(String), strict: true },
    ]);
    const report = await h.handler(h.jobs[0]);
    expect(report).toEqual({ datasetId, status: 'refused', prefix: `tierdrift/${prefix}` });
    expect(await h.keys()).toEqual([`tierdrift/${prefix}/_run.json`]);
    const marker = JSON.parse((await h.storage.read(`tierdrift/${prefix}/_run.json`))!.toString('utf8')) as Record<
      string,
      unknown
    >;
    expect(marker).toMatchObject({
      endedAt: expect.any(String),
      error: expect.stringMatching(/integrity checks failed: no_50gb_while_free .*nothing published/),
    });

    // Published by a run without strict, then asked for strictly: 422 at once, no job started.
    expect((await h.api(post(null))).statusCode).toBe(202);
    expect(await h.handler(h.jobs[1])).toMatchObject({ status: 'created' });
    const again = await h.api(post({ strict: 'true' }));
    expect(again.statusCode).toBe(422);
    expect(again.json.message).toMatch(/is already published with failed integrity checks: no_50gb_while_free/);
    expect(h.jobs).toHaveLength(2);
  });
});
