import { randomUUID } from 'node:crypto';
import { datasetAddress } from '../config/dataset-id.js';
import type { GenerationConfig } from '../config/schema.js';
import { datasetKeys, partsPrefixOf, runPrefixOf } from '../layout/key-layout.js';
import { readManifest, type PublishOutcome } from '../publish/publish-dataset.js';
import type { ComposableStorage } from '../storage/storage.js';
import { commitShards, removeRun } from './commit-shards.js';
import { assignTxnOffsets, planShards, type PlanOptions, type Shard } from './plan-shards.js';
import { countShardUploads, runShard } from './run-shard.js';

/**
 * The fan-out as the state machine runs it, one function per step; each step's output is the next
 * one's input (small JSON: the config, the run id and the shard list):
 *   plan → Map(count) → offsets → Map(shard) → commit
 * Two passes over the shards keep txn_id one gap-free sequence: the count pass generates each
 * shard's users without formatting them (the engine's share of the cost) to learn its upload
 * count; the offsets step turns the counts into prefix sums; the write pass then numbers each
 * shard's uploads from its offset, so every part already holds its final bytes and the commit
 * only copies them. (Rewriting uploads parts in the commit would put every byte through one
 * Lambda twice; running shards in order would serialise them.)
 */
export interface FanoutRun {
  config: GenerationConfig;
  runId: string;
  startedAt: string;
  /** Empty when the dataset is already published (nothing to do). */
  shards: Shard[];
}

export function planRun(
  config: GenerationConfig,
  options: PlanOptions = {},
  runId = randomUUID(),
  now = new Date(),
): FanoutRun {
  return { config, runId, startedAt: now.toISOString(), shards: planShards(config, options) };
}

/**
 * Plan, unless the dataset is already there. Whatever earlier runs of the dataset left under
 * `_parts/` goes first: a failed run's cleanup deletes its own, but an execution that timed out or
 * was stopped never reaches it (and a shard still running when its Map failed may write after it).
 * Only one execution of a dataset runs at a time (see fanoutStarter), so none of them is in use.
 */
export async function planStep(
  config: GenerationConfig,
  storage: ComposableStorage,
  root: string,
  options: PlanOptions = {},
  now = new Date(),
): Promise<FanoutRun> {
  const run = planRun(config, options, randomUUID(), now);
  const { prefix, manifestKey } = datasetKeys(datasetAddress(config), root);
  await removeRun(storage, partsPrefixOf(prefix));
  if (await readManifest(storage, manifestKey)) return { ...run, shards: [] };
  return run;
}

/** A shard's upload count: what the count and shard steps return. */
export interface ShardCount {
  index: number;
  uploads: number;
}

export function countStep(config: GenerationConfig, shard: Shard): ShardCount {
  return { index: shard.index, uploads: countShardUploads(config, shard) };
}

export function offsetsStep(run: FanoutRun, counts: ShardCount[]): FanoutRun {
  const ordered = [...counts].sort((a, b) => a.index - b.index);
  if (ordered.some((c, i) => c.index !== i)) throw new Error('upload counts do not match the shards');
  return {
    ...run,
    shards: assignTxnOffsets(
      run.shards,
      ordered.map((c) => c.uploads),
    ),
  };
}

export async function shardStep(
  run: Pick<FanoutRun, 'config' | 'runId'>,
  shard: Shard,
  storage: ComposableStorage,
  root: string,
): Promise<ShardCount> {
  const { prefix } = datasetKeys(datasetAddress(run.config), root);
  const report = await runShard(run.config, shard, storage, runPrefixOf(prefix, run.runId), prefix);
  return { index: report.index, uploads: report.uploads };
}

export function commitStep(
  run: FanoutRun,
  storage: ComposableStorage,
  root: string,
  minPartBytes?: number,
): Promise<PublishOutcome> {
  return commitShards(run.config, run.shards, storage, {
    root,
    runId: run.runId,
    startedAt: run.startedAt,
    minPartBytes,
  });
}

/**
 * After a failed run (the state machine's Catch): deletes everything the run wrote under
 * `_parts/<runId>/`. Without a run id (the plan failed) nothing was written.
 */
export async function cleanupStep(
  config: GenerationConfig,
  runId: string | undefined,
  storage: ComposableStorage,
  root: string,
): Promise<void> {
  if (runId === undefined) return;
  const { prefix } = datasetKeys(datasetAddress(config), root);
  await removeRun(storage, runPrefixOf(prefix, runId));
}

/** The whole fan-out in this process, shard after shard: what the state machine does, for tests and tools. */
export async function runFanoutLocally(
  config: GenerationConfig,
  storage: ComposableStorage,
  options: PlanOptions & { root?: string; commitMinPartBytes?: number } = {},
): Promise<PublishOutcome | undefined> {
  const root = options.root ?? '';
  const planned = await planStep(config, storage, root, options);
  if (planned.shards.length === 0) return undefined;
  try {
    const run = offsetsStep(
      planned,
      planned.shards.map((s) => countStep(config, s)),
    );
    for (const shard of run.shards) await shardStep(run, shard, storage, root);
    return await commitStep(run, storage, root, options.commitMinPartBytes);
  } catch (error) {
    await cleanupStep(config, planned.runId, storage, root);
    throw error;
  }
}
