import type { FanoutRun, ShardCount } from '../fanout/fanout-steps.js';
import type { JobReport } from '../handler/background-job.js';
import type { ExecutionStatus, FanoutExecutions } from '../handler/fanout-executions.js';
import { FANOUT_KINDS, type FanoutPlanJob, type StepError } from '../handler/fanout-payloads.js';

/** Invokes the function with one payload and returns its result (in tests and `npm run dev`: the handler). */
export type Invoke = (payload: unknown) => Promise<unknown>;

/**
 * What the fan-out state machine (infra/fanout-state-machine.ts) does, one step after the other in
 * this process: the same payloads, each built from the previous steps' results.
 *   plan → count each shard → offsets → shard each → commit
 * A step that throws goes, like the state machine's Catch, to cleanup (with the run id once the
 * plan has made one), and the run fails with the step's error. Steps are not retried here.
 */
export async function runStateMachineLocally(invoke: Invoke, input: FanoutPlanJob): Promise<JobReport> {
  let runId: string | undefined;
  try {
    const planned = (await invoke(input)) as FanoutRun;
    runId = planned.runId;
    const counts: ShardCount[] = [];
    for (const shard of planned.shards) counts.push((await invoke({ kind: FANOUT_KINDS.count, config: planned.config, shard })) as ShardCount);
    const run = (await invoke({ kind: FANOUT_KINDS.offsets, run: planned, counts })) as FanoutRun;
    for (const shard of run.shards) await invoke({ kind: FANOUT_KINDS.shard, config: run.config, runId: run.runId, shard });
    return (await invoke({ kind: FANOUT_KINDS.commit, run })) as JobReport;
  } catch (failure) {
    await invoke({ kind: FANOUT_KINDS.cleanup, config: input.config, ...(runId !== undefined && { runId }), error: asStepError(failure) });
    throw failure;
  }
}

/** What a Catch records of a Lambda error: its name, and the error as JSON for a cause. */
function asStepError(failure: unknown): StepError {
  const error = failure instanceof Error ? failure : new Error(String(failure));
  return { Error: error.name, Cause: JSON.stringify({ errorType: error.name, errorMessage: error.message }) };
}

/**
 * Executions of the local state machine by name, like Step Functions': a name is taken for good,
 * an execution runs after the request that started it has been answered, and ends SUCCEEDED or
 * FAILED. `npm run dev` and the tests start fan-outs through it.
 */
export class LocalStateMachine implements FanoutExecutions {
  private readonly executions = new Map<string, { status: ExecutionStatus; done: Promise<void> }>();

  constructor(
    private readonly invoke: Invoke,
    private readonly onFailure: (name: string, error: unknown) => void = () => undefined,
  ) {}

  async start(name: string, input: FanoutPlanJob): Promise<boolean> {
    if (this.executions.has(name)) return false;
    const execution: { status: ExecutionStatus; done: Promise<void> } = { status: 'RUNNING', done: Promise.resolve() };
    execution.done = new Promise((resolve) => setImmediate(resolve))
      .then(() => runStateMachineLocally(this.invoke, input))
      .then(
        () => void (execution.status = 'SUCCEEDED'),
        (error: unknown) => {
          execution.status = 'FAILED';
          this.onFailure(name, error);
        },
      );
    this.executions.set(name, execution);
    return true;
  }

  async status(name: string): Promise<ExecutionStatus> {
    const execution = this.executions.get(name);
    if (!execution) throw new Error(`ExecutionDoesNotExist: ${name}`);
    return execution.status;
  }

  /** The executions started so far, by name, with their status. */
  list(): Array<{ name: string; status: ExecutionStatus }> {
    return [...this.executions].map(([name, e]) => ({ name, status: e.status }));
  }

  /** Resolves once every execution started so far has ended. */
  async settled(): Promise<void> {
    await Promise.all([...this.executions.values()].map((e) => e.done));
  }
}
