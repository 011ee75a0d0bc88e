import { z } from 'zod';
import type { GenerationConfig } from '../config/schema.js';
import type { Problem } from '../errors/problem.js';
import type { PublishOutcome } from '../publish/publish-dataset.js';
import { validateDatasetRequest } from './dataset-request.js';
import { latestPointerKey } from '../layout/key-layout.js';
import type { DatasetStore } from './dataset-store.js';
import { writeJsonObject } from '../storage/json-object.js';
import { publishedAt } from './list-datasets.js';

const FIXTURE_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** The EventBridge Scheduler payload of the nightly refresh. */
export const nightlyPayloadSchema = z
  .strictObject({
    fixtures: z
      .array(
        z.strictObject({
          name: z.string().regex(FIXTURE_NAME, {
            error: 'must be 1 to 63 lowercase letters, digits or hyphens, starting with a letter or digit',
          }),
          config: z.unknown().default({}),
          seedFromDate: z.boolean({ error: 'must be true or false' }).default(false),
        }),
        { error: 'must be an array of fixtures' },
      )
      .min(1, { error: 'must list at least one fixture' }),
    /** The schedule's time, e.g. from the `<aws.scheduler.scheduled-time>` context attribute. */
    scheduledTime: z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time' }).optional(),
  })
  .superRefine((payload, ctx) => {
    const seen = new Set<string>();
    payload.fixtures.forEach((fixture, i) => {
      if (seen.has(fixture.name))
        ctx.addIssue({
          code: 'custom',
          path: ['fixtures', i, 'name'],
          message: `duplicate fixture name "${fixture.name}"`,
        });
      seen.add(fixture.name);
    });
  });

export type NightlyPayload = z.infer<typeof nightlyPayloadSchema>;
export type NightlyFixture = NightlyPayload['fixtures'][number];

/** `<root>/latest/<name>.json`: where downstream jobs find the freshest copy of a fixture. */
export interface LatestPointer {
  name: string;
  datasetId: string;
  prefix: string;
  manifestKey: string;
  publishedAt: string;
}

export type FixtureResult =
  | { name: string; ok: true; status: PublishOutcome['status']; pointer: LatestPointer }
  | { name: string; ok: false; problems: Problem[] };

export interface NightlyRun {
  store: DatasetStore;
  /** What one invocation publishes: users, and bytes by the estimate (`bytesSetting` names that limit). */
  limits: { maxUsers: number; maxBytes: number; bytesSetting: string };
  /** When the run is: decides `seedFromDate` seeds. */
  runTime: Date;
  /** `rolling`: a date-seeded fixture, published where old copies expire. */
  publish: (config: GenerationConfig, fixture: string, rolling: boolean) => Promise<PublishOutcome>;
}

/** The seed of a `seedFromDate` fixture: the run's UTC date as YYYYMMDD, e.g. 20261124. */
export function seedOfDate(date: Date): number {
  return date.getUTCFullYear() * 10_000 + (date.getUTCMonth() + 1) * 100 + date.getUTCDate();
}

/**
 * Publishes every fixture (idempotently: a published config is found, not regenerated) and points
 * `latest/<name>.json` at it. A failing fixture is reported and the others still run.
 */
export async function publishFixtures(fixtures: readonly NightlyFixture[], run: NightlyRun): Promise<FixtureResult[]> {
  const results: FixtureResult[] = [];
  for (const fixture of fixtures) {
    try {
      results.push(await publishFixture(fixture, run));
    } catch (error) {
      results.push({ name: fixture.name, ok: false, problems: [{ field: '(run)', rule: String(error) }] });
    }
  }
  return results;
}

async function publishFixture(fixture: NightlyFixture, run: NightlyRun): Promise<FixtureResult> {
  const raw = fixture.config;
  const isObject = typeof raw === 'object' && raw !== null && !Array.isArray(raw);
  if (fixture.seedFromDate && isObject && 'seed' in raw) {
    return {
      name: fixture.name,
      ok: false,
      problems: [{ field: 'seed', rule: 'must not be given with seedFromDate' }],
    };
  }
  const requested = fixture.seedFromDate && isObject ? { ...raw, seed: seedOfDate(run.runTime) } : raw;
  const { maxUsers, maxBytes, bytesSetting } = run.limits;
  const checked = validateDatasetRequest(requested, maxUsers, undefined, { maxBytes, setting: bytesSetting });
  if (!checked.ok) return { name: fixture.name, ok: false, problems: checked.problems };

  const outcome = await run.publish(checked.config, fixture.name, fixture.seedFromDate);
  const pointer: LatestPointer = {
    name: fixture.name,
    datasetId: outcome.address.datasetId,
    prefix: outcome.prefix,
    manifestKey: outcome.manifestKey,
    publishedAt: publishedAt(outcome.manifest.generation),
  };
  await writeJsonObject(run.store.storage, latestPointerKey(run.store.root, fixture.name), pointer);
  return { name: fixture.name, ok: true, status: outcome.status, pointer };
}
