import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../infra/project-root.js';
import { startLocalS3, type LocalS3 } from '../support/local-s3.js';
import { EXPECTED_FILES } from '../support/expected-files.js';

/**
 * `cdk synth` exactly as a user runs it (the CLI, cdk.json, infra/app.ts, cdk-nag, CDK's own
 * template validation, esbuild bundling), with no AWS credentials or config and no Docker; then
 * the bundle it produced — the artifact `cdk deploy` would upload — is run under plain Node
 * against the local S3 server, configured with the environment the template gives the function.
 */

const out = mkdtempSync(join(tmpdir(), 'tierdrift-cdk-'));
let synth: { code: number | null; stdout: string; stderr: string; seconds: number };
let template: any;
let fnId: string;
let bundleDir: string;

function run(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: PROJECT_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += String(d)));
    child.stderr.on('data', (d) => (stderr += String(d)));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** This process's environment without any AWS credentials, profile or config. */
function withoutAws(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.startsWith('AWS_') && !key.startsWith('CDK_')),
  );
  return {
    ...env,
    AWS_CONFIG_FILE: join(out, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(out, 'no-aws-credentials'),
    AWS_EC2_METADATA_DISABLED: 'true', // no instance-metadata probe: nothing to find offline
    ...extra,
  };
}

beforeAll(async () => {
  const started = performance.now();
  const result = await run(
    process.execPath,
    [join(PROJECT_ROOT, 'node_modules/aws-cdk/bin/cdk'), 'synth', '-q', '-o', out],
    withoutAws(),
  );
  synth = { ...result, seconds: (performance.now() - started) / 1000 };
  if (result.code !== 0) return;
  template = JSON.parse(readFileSync(join(out, 'Tierdrift.template.json'), 'utf8'));
  fnId = Object.keys(template.Resources).find((id) => template.Resources[id].Type === 'AWS::Lambda::Function')!;
  const key: string = template.Resources[fnId].Properties.Code.S3Key;
  bundleDir = join(out, `asset.${key.replace(/\.zip$/, '')}`);
}, 300_000);

afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('npx cdk synth (CLI, offline, no credentials)', () => {
  it('succeeds with cdk-nag and CloudFormation validation on, and writes the template', () => {
    expect(synth.code, `${synth.stdout}\n${synth.stderr}`).toBe(0);
    expect(synth.stderr).not.toMatch(/AwsSolutions-/);
    expect(existsSync(join(out, 'Tierdrift.template.json'))).toBe(true);
    // The acknowledgements and their reasons travel with the template for reviewers.
    const suppressed = template.Resources[fnId].Metadata.cdk_nag.rules_to_suppress;
    expect(suppressed).toEqual([{ id: 'AwsSolutions-L1', reason: expect.stringMatching(/pinned on purpose/) }]);
    console.info(`cdk synth took ${synth.seconds.toFixed(1)} s`);
  });

  it('bundled the handler with the local esbuild into one ESM file with its source map, nothing left external', () => {
    expect(readdirSync(bundleDir).sort()).toEqual(['index.mjs', 'index.mjs.map']);
    const code = readFileSync(join(bundleDir, 'index.mjs'), 'utf8');
    const imported = [
      ...code.matchAll(/^\s*import\s[^'"]*?from\s*["']([^"']+)["']/gm),
      ...code.matchAll(/^\s*import\s*["']([^"']+)["']/gm),
    ].map((m) => m[1]);
    // Only Node built-ins stay imports; every package (the AWS SDK included) is in the bundle.
    expect(imported.filter((spec) => !spec.startsWith('node:') && !builtinModules.includes(spec))).toEqual([]);
    expect(imported.length).toBeGreaterThan(0);
    expect(code).toMatch(/^import \{ createRequire as __tierdriftCreateRequire \} from 'node:module'/);
    expect(code).toMatch(/\/\/# sourceMappingURL=index\.mjs\.map\s*$/);
    expect(template.Resources[fnId].Properties.Handler).toBe('index.handler');
  });
});

describe('the bundled handler (the deployed artifact) against a local S3 server', () => {
  let s3: LocalS3;
  let client: S3Client;
  const bucket = 'tierdrift-bundle-test';

  beforeAll(async () => {
    s3 = await startLocalS3();
    await s3.createBucket(bucket);
    client = new S3Client({
      endpoint: s3.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
  });
  afterAll(async () => {
    client.destroy();
    await s3.stop();
  });

  /** Invokes the bundle in a fresh Node process with the function's environment from the template. */
  async function invoke(event: unknown): Promise<any> {
    const variables: Record<string, unknown> = template.Resources[fnId].Properties.Environment.Variables;
    const env: Record<string, string> = {};
    for (const [name, value] of Object.entries(variables)) {
      env[name] = typeof value === 'string' ? value : (TOKEN_VALUES[name] ?? '');
      expect(env[name], `${name} is not a plain string or the bucket`).not.toBe('');
    }
    const eventFile = join(out, `event-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(eventFile, JSON.stringify(event));
    const { stdout, stderr } = await run(
      process.execPath,
      [join(PROJECT_ROOT, 'test/infra/invoke-bundle.mjs'), bundleDir, eventFile],
      withoutAws({
        ...env,
        // What the Lambda runtime and the local server provide.
        AWS_LAMBDA_FUNCTION_NAME: 'Tierdrift-Generator',
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
        AWS_ENDPOINT_URL_S3: s3.endpoint,
        S3_FORCE_PATH_STYLE: 'true',
        POWERTOOLS_LOG_LEVEL: 'ERROR', // quiet test output
        POWERTOOLS_METRICS_DISABLED: 'true',
      }),
    );
    const line = stdout.split('\n').find((l) => l.startsWith('@@RESULT '));
    if (!line) throw new Error(`no result from the bundle:\n${stdout}\n${stderr}`);
    const outcome = JSON.parse(line.slice('@@RESULT '.length));
    // The bundle runs on the Node major the function's runtime is (nodejs<major>.x).
    expect(template.Resources[fnId].Properties.Runtime).toBe(`nodejs${outcome.node.split('.')[0]}.x`);
    if (!outcome.ok) throw new Error(`the bundled handler failed: ${outcome.error}\n${stderr}`);
    return outcome.result;
  }

  /** What CloudFormation resolves the template's non-string variables to, here. */
  const TOKEN_VALUES: Record<string, string> = {
    BUCKET_NAME: bucket,
    STATE_MACHINE_ARN: 'arn:aws:states:us-east-1:123456789012:stateMachine:Tierdrift-fanout',
  };

  async function keys(prefix: string): Promise<string[]> {
    const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
    return (listed.Contents ?? []).map((o) => o.Key!).sort();
  }

  it('POST /datasets (events/api-post-default.json): 201, the dataset and its manifest in the bucket, working presigned URLs', async () => {
    const event = JSON.parse(readFileSync(join(PROJECT_ROOT, 'events/api-post-default.json'), 'utf8'));
    const response = await invoke(event);
    expect(response.statusCode, response.body).toBe(201);
    const body = JSON.parse(response.body);
    expect(body.prefix).toMatch(/^tierdrift\/seed=\d+\/[0-9a-f]{16}$/);
    const files = (await keys(`${body.prefix}/`)).map((k) => k.slice(String(body.prefix).length + 1));
    expect(files.filter((f) => f !== '_run.json')).toEqual([...EXPECTED_FILES, 'manifest.json'].sort());
    const users = await fetch(body.files.find((f: { name: string }) => f.name === 'users.csv').url);
    expect(users.status).toBe(200);
    expect((await users.text()).startsWith('user_id,name\r\n')).toBe(true);
    // The report, rendered by the bundled Vega, served as a page from its presigned URL.
    const report = await fetch(body.files.find((f: { name: string }) => f.name === 'report.html').url);
    expect(report.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await report.text()).toMatch(
      /^<!DOCTYPE html>[\s\S]*<figure id="tier-timelines" class="chart">[\s\S]*<svg /,
    );
    const manifest = JSON.parse(
      await (
        await client.send(new GetObjectCommand({ Bucket: bucket, Key: `${body.prefix}/manifest.json` }))
      ).Body!.transformToString(),
    );
    expect(manifest.datasetId).toBe(body.datasetId);
    expect(manifest.checksPassed).toBe(true);
  });

  it('POST /datasets with "formats": ["parquet"]: the bundled Parquet writer publishes every table', async () => {
    const event = JSON.parse(readFileSync(join(PROJECT_ROOT, 'events/api-post-default.json'), 'utf8'));
    const response = await invoke({ ...event, body: JSON.stringify({ users: 50, formats: ['parquet'] }) });
    expect(response.statusCode, response.body).toBe(201);
    const body = JSON.parse(response.body) as { prefix: string; files: Array<{ name: string; url: string }> };
    const files = (await keys(`${body.prefix}/`)).map((k) => k.slice(body.prefix.length + 1));
    expect(files.filter((f) => f.endsWith('.parquet'))).toEqual(
      ['items', 'tiers', 'truth_users', 'upload_50gb_next_hour', 'uploads', 'users'].map(
        (t) => `parquet/${t}/part-00000.parquet`,
      ),
    );
    const signed = body.files.find((f) => f.name === 'parquet/uploads/part-00000.parquet');
    const part = await fetch(String(signed?.url));
    const bytes = Buffer.from(await part.arrayBuffer());
    expect([bytes.subarray(0, 4).toString(), bytes.subarray(-4).toString()]).toEqual(['PAR1', 'PAR1']);
  });

  it('a fan-out step (events/fanout-plan.json): the bundle recognises it and plans the shards', async () => {
    const run = await invoke(JSON.parse(readFileSync(join(PROJECT_ROOT, 'events/fanout-plan.json'), 'utf8')));
    expect(run).toMatchObject({ runId: expect.any(String), shards: [{ index: 0, from: 1, to: 1200 }] });
  });

  it('the nightly schedule input as rendered in the template: every fixture published and pointed to', async () => {
    const schedule = Object.values<any>(template.Resources).find((r) => r.Type === 'AWS::Scheduler::Schedule');
    // EventBridge Scheduler substitutes its context attribute at invocation time.
    const input = schedule.Properties.Target.Input.replace('<aws.scheduler.scheduled-time>', '2026-11-25T02:30:00Z');
    const report = await invoke(JSON.parse(input));
    expect(report.runDate).toBe('2026-11-25T02:30:00.000Z');
    expect(report.fixtures.map((f: any) => [f.name, f.ok])).toEqual([
      ['notebook', true],
      ['rolling', true],
    ]);
    expect(await keys('tierdrift/latest/')).toEqual([
      'tierdrift/latest/notebook.json',
      'tierdrift/latest/rolling.json',
    ]);
    const rolling = report.fixtures.find((f: any) => f.name === 'rolling');
    expect(rolling.pointer.datasetId).toMatch(/^seed-20261125-/);
  });
});
