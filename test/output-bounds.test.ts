import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../lambda/validation/validate.js';
import { estimateOutput } from '../lambda/catalog/output-estimate.js';
import { DEFAULT_MAX_OUTPUT_BYTES } from '../lambda/settings/function-settings.js';
import { createEngine } from '../lambda/engine/create-engine.js';
import { MAX_USER_UPLOADS } from '../lambda/engine/upload-bound.js';
import { apiEvent, createHarness, withRequest } from './support/handler-harness.js';
import { useLocalS3 } from './support/local-s3.js';
import { runCli } from './support/run-cli.js';

/**
 * Configs that would run without bound, or write more than allowed, are refused before any work:
 * 400 through the real handler, exit 2 from the CLI, nothing written.
 */

const s3 = useLocalS3();

const root = mkdtempSync(join(tmpdir(), 'tierdrift-bounds-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const POST = apiEvent('api-post-default.json');
const post = (config: unknown) => withRequest(POST, { body: JSON.stringify(config) });
const ONE_SECOND = 1 / 3600;
type Problem = { field: string; rule: string };
const errorsOf = (json: Record<string, unknown>) => json.errors as Problem[];

describe('POST /datasets', () => {
  // Answered in time or not at all: a grid that never advances would block the function until it dies.
  it('a grid of 1e-10 hours (0 seconds once rounded): 400 naming tasks.gridHours, nothing written', async () => {
    const h = await createHarness(s3);
    const response = await h.api(post({ users: 1, tasks: { gridHours: 1e-10 } }));
    expect(response.statusCode).toBe(400);
    expect(errorsOf(response.json)).toEqual([
      { field: 'tasks.gridHours', rule: 'must be at least 1 second (1/3600 hours)' },
    ]);
    expect(await h.keys()).toEqual([]);
    expect(h.jobs).toEqual([]);
  }, 60_000);

  it('a rate whose far tail asks one user for more uploads than one user may have: 400 naming the rate', async () => {
    const h = await createHarness(s3);
    const response = await h.api(
      post({ users: 5, end: '2026-03-01T00:00:00Z', premiumUploadsPerDay: { mean: 8000, std: 4000 } }),
    );
    expect(response.statusCode).toBe(400);
    expect(errorsOf(response.json)).toEqual([
      {
        field: 'premiumUploadsPerDay',
        rule: expect.stringContaining(`more than the ${MAX_USER_UPLOADS} one user may have`),
      },
    ]);
    expect(await h.keys()).toEqual([]);
  }, 60_000);

  it('over MAX_OUTPUT_BYTES: 400 naming the estimate and the limit, nothing written, no job', async () => {
    const h = await createHarness(s3, { MAX_OUTPUT_BYTES: '1000000' });
    const config = { users: 10_000 };
    const response = await h.api(post(config));
    expect(response.statusCode).toBe(400);
    const [problem, ...others] = errorsOf(response.json);
    expect(others).toEqual([]);
    expect(problem.field).toBe('(config)');
    expect(problem.rule).toContain(`${estimateOutput(parseConfig(config)).bytes} bytes by the estimate`);
    expect(problem.rule).toContain('more than the 1000000 bytes allowed (MAX_OUTPUT_BYTES)');
    expect(await h.keys()).toEqual([]);
    expect(h.jobs).toEqual([]);
    // Under the limit, the same deployment publishes it.
    expect((await h.api(post({ users: 10 }))).statusCode).toBe(201);
  }, 60_000);

  it('1000 users on a 1-second grid is refused (~61 GB by default); a day of it (~1.4 GB of task rows) runs in the background, never in the request', async () => {
    const h = await createHarness(s3);
    const big = await h.api(post({ users: 1000, tasks: { gridHours: ONE_SECOND } }));
    expect(big.statusCode).toBe(400);
    expect(errorsOf(big.json)[0].rule).toContain(
      `more than the ${DEFAULT_MAX_OUTPUT_BYTES} bytes allowed (MAX_OUTPUT_BYTES)`,
    );
    const day = await h.api(
      post({ users: 1000, end: '2025-03-02T00:00:00Z', minTierGapHours: 1, tasks: { gridHours: ONE_SECOND } }),
    );
    expect(day.statusCode).toBe(202);
    expect(h.jobs).toHaveLength(1);
    // Only the run marker: nothing generated inside the request.
    expect((await h.keys()).every((key) => key.endsWith('/_run.json'))).toBe(true);
  }, 60_000);

  it('a reference config over SINGLE_RUN_MAX_BYTES (it cannot be split): 400 naming that limit', async () => {
    const h = await createHarness(s3, { SINGLE_RUN_MAX_BYTES: '1000000' });
    const response = await h.api(post({ users: 10_000 }));
    expect(response.statusCode).toBe(400);
    expect(errorsOf(response.json)[0].rule).toMatch(/more than the 1000000 bytes allowed \(SINGLE_RUN_MAX_BYTES/);
    expect(await h.keys()).toEqual([]);
  }, 60_000);
});

describe('background jobs refuse what is over their limits too', () => {
  it('a job over SINGLE_RUN_MAX_BYTES fails before writing anything', async () => {
    const h = await createHarness(s3, { SINGLE_RUN_MAX_BYTES: '1000000' });
    await expect(
      h.handler({ kind: 'tierdrift.generate', config: { users: 10_000 }, requestedAt: new Date().toISOString() }),
    ).rejects.toThrow(/invalid job config: \(config\): would write about .* more than the 1000000 bytes allowed/);
    expect(await h.keys()).toEqual([]);
  }, 60_000);

  it('a nightly fixture over the limit is reported failed, and writes nothing', async () => {
    const h = await createHarness(s3, { MAX_OUTPUT_BYTES: '1000000' });
    await expect(h.handler({ fixtures: [{ name: 'big', config: { users: 10_000 } }] })).rejects.toThrow(
      /big \(\(config\): would write about/,
    );
    expect(await h.keys()).toEqual([]);
  }, 60_000);
});

describe('the CLI', () => {
  const refused = async (args: string[]) => {
    const dest = join(root, `out-${Math.random().toString(36).slice(2)}`);
    const run = await runCli(['generate', ...args, '--dest', dest]);
    expect(run.code, run.stderr).toBe(2);
    expect(run.stdout).toBe('');
    expect(existsSync(dest) ? readdirSync(dest) : []).toEqual([]);
    return run;
  };
  const configFile = (config: unknown): string => {
    const file = join(root, `config-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(file, JSON.stringify(config));
    return file;
  };

  it('gridHours 1e-10: exit 2 naming the field, in one line, nothing written', async () => {
    const run = await refused(['--config', configFile({ users: 1, tasks: { gridHours: 1e-10 } })]);
    expect(run.stderr).toMatch(/^\s+- tasks\.gridHours: must be at least 1 second \(1\/3600 hours\)$/m);
  }, 60_000);

  it('over --max-output-bytes (default the same as MAX_OUTPUT_BYTES): exit 2 naming the estimate and the limit', async () => {
    const run = await refused(['--users', '10000', '--max-output-bytes', '1000000']);
    expect(run.stderr).toMatch(
      /- \(config\): would write about .* more than the 1000000 bytes allowed \(--max-output-bytes\)/,
    );
    const fine = await refused(['--config', configFile({ users: 1000, tasks: { gridHours: ONE_SECOND } })]);
    expect(fine.stderr).toContain(`more than the ${DEFAULT_MAX_OUTPUT_BYTES} bytes allowed (--max-output-bytes)`);
    const help = await runCli(['generate', '--help']);
    expect(help.stdout).toMatch(new RegExp(`--max-output-bytes <n>[\\s\\S]*default:\\s+${DEFAULT_MAX_OUTPUT_BYTES}`));
    const bad = await refused(['--max-output-bytes', '1e9']);
    expect(bad.stderr).toMatch(/--max-output-bytes.*must be a whole number of bytes/);
  }, 60_000);
});

it(`an engine asked for more than ${MAX_USER_UPLOADS} uploads for one user fails in one line (the config check bypassed)`, () => {
  for (const engine of ['reference', 'seedrandom'] as const) {
    // 1,000,000 a day for 10 days: validation refuses it; built by hand, it reaches the engines' own limit.
    const config = {
      ...parseConfig({ engine, users: 1 }),
      freeUploadsPerDay: { mean: 1e6, std: 0 },
      premiumUploadsPerDay: { mean: 1e6, std: 0 },
    };
    expect(() => {
      for (const batch of createEngine(config)) expect(batch.userId).toBeGreaterThan(0);
    }).toThrow(new RegExp(`^generating user 1: more than ${MAX_USER_UPLOADS} uploads, the most one user may have`));
  }
}, 60_000);
