import type { FanoutPlanJob, FanoutStarter } from '../fanout/fanout-payloads.js';

/** Step Functions' execution statuses. */
export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED' | 'PENDING_REDRIVE';

/** The fan-out state machine's executions by name: Step Functions, or the local state machine. */
export interface FanoutExecutions {
  /** Starts an execution; false when one of this name exists already (whatever its status). */
  start(name: string, input: FanoutPlanJob): Promise<boolean>;
  status(name: string): Promise<ExecutionStatus>;
}

/** Executions that ended without a dataset a re-POST may replace, one new name each: a bound on a config that always fails. */
export const MAX_FANOUT_RETRIES = 5;

/** The n-th execution name of a dataset: its id, then `<id>-r1`, `<id>-r2`, … (at most 80 characters: ids are ~32). */
export const executionName = (datasetId: string, attempt: number): string =>
  attempt === 0 ? datasetId : `${datasetId}-r${attempt}`;

/**
 * Starts the fan-out of a dataset under the first of its execution names not taken by an ended
 * execution. Names of a Standard state machine cannot be reused for 90 days, so an execution that
 * failed, timed out or was aborted would otherwise block its dataset for that long. A running one
 * (or one being redriven) means "already running". One that succeeded while the API found no
 * dataset (deleted since, or published a moment after the API looked) is replaced too: the new
 * execution's plan finds a published dataset and does nothing, or publishes it again.
 */
export function fanoutStarter(executions: FanoutExecutions): FanoutStarter {
  return async (datasetId, input) => {
    for (let attempt = 0; attempt <= MAX_FANOUT_RETRIES; attempt++) {
      const name = executionName(datasetId, attempt);
      if (await executions.start(name, input)) return 'started';
      const status = await executions.status(name);
      if (status === 'RUNNING' || status === 'PENDING_REDRIVE') return 'already-running';
    }
    throw new Error(
      `the fan-out of ${datasetId} ended without a dataset ${MAX_FANOUT_RETRIES + 1} times ` +
        `(executions ${executionName(datasetId, 0)} to ${executionName(datasetId, MAX_FANOUT_RETRIES)}); see their errors before starting it again by hand`,
    );
  };
}
