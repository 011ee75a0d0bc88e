import type { JobReport } from '../handler/background-job.js';
import type { FanoutRun, ShardCount } from '../fanout/fanout-steps.js';
import { FANOUT_KINDS, type FanoutPlanJob } from '../handler/fanout-payloads.js';

/** Invokes the function with one payload and returns its result (in tests and `npm run dev`: the handler). */
export type Invoke = (payload: unknown) => Promise<unknown>;

/**
 * What the fan-out state machine (infra/fanout-state-machine.ts) does, one step after the other in
 * this process: the same payloads, each built from the previous steps' results.
 *   plan → count each shard → offsets → shard each → commit
 */
export async function runStateMachineLocally(invoke: Invoke, input: FanoutPlanJob): Promise<JobReport> {
  const planned = (await invoke(input)) as FanoutRun;
  const counts: ShardCount[] = [];
  for (const shard of planned.shards) counts.push((await invoke({ kind: FANOUT_KINDS.count, config: planned.config, shard })) as ShardCount);
  const run = (await invoke({ kind: FANOUT_KINDS.offsets, run: planned, counts })) as FanoutRun;
  for (const shard of run.shards) await invoke({ kind: FANOUT_KINDS.shard, config: run.config, runId: run.runId, shard });
  return (await invoke({ kind: FANOUT_KINDS.commit, run })) as JobReport;
}
