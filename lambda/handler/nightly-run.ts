import { nightlyPayloadSchema, publishFixtures, type FixtureResult } from '../catalog/nightly-fixtures.js';
import type { DatasetStore } from '../catalog/dataset-store.js';
import { issueProblems, problemsInline } from '../errors/problem.js';
import type { JobLimits } from './background-job.js';
import type { Publisher } from './publisher.js';

export interface NightlyReport {
  runDate: string;
  fixtures: FixtureResult[];
}

/** Thrown after every fixture had its chance, when any failed: the scheduler then retries the run. */
export class NightlyRunError extends Error {
  constructor(readonly report: NightlyReport) {
    const failed = report.fixtures.flatMap((f) => (f.ok ? [] : [`${f.name} (${problemsInline(f.problems)})`]));
    super(`${failed.length} of ${report.fixtures.length} fixtures failed: ${failed.join(', ')}`);
    this.name = 'NightlyRunError';
  }
}

/** The EventBridge Scheduler run: every fixture published and pointed to by `latest/<name>.json`. */
export async function runNightly(
  payload: unknown,
  store: DatasetStore,
  limits: JobLimits & { rollingRoot: string },
  publish: Publisher,
  now: Date,
): Promise<NightlyReport> {
  const parsed = nightlyPayloadSchema.safeParse(payload);
  if (!parsed.success) {
    throw new Error(
      `invalid schedule payload: ${problemsInline(issueProblems(parsed.error.issues, { whole: '(payload)' }))}`,
    );
  }
  const runTime = parsed.data.scheduledTime ? new Date(parsed.data.scheduledTime) : now;
  const fixtures = await publishFixtures(parsed.data.fixtures, {
    store,
    limits,
    runTime,
    publish: (config, name, rolling) =>
      publish(config, `schedule:${name}`, { root: rolling ? limits.rollingRoot : undefined }),
  });
  const report = { runDate: runTime.toISOString(), fixtures };
  if (fixtures.some((f) => !f.ok)) throw new NightlyRunError(report);
  return report;
}
