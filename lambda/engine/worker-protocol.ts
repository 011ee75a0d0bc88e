import type { GenerationConfig } from '../config/schema.js';

/**
 * Messages from an engine worker to its parent; the parent answers each chunk with an ack.
 * `blockEnd` marks the last chunk of one block of users (see `WorkerPlan`).
 */
export type EngineMessage =
  | { type: 'chunk'; data: Float64Array; blockEnd?: boolean }
  | { type: 'done' }
  | { type: 'error'; message: string };

/**
 * What a worker generates. Without `blocks`, the whole run (`createEngine(config)`, any engine).
 * With `blocks`, users are cut into blocks of `blockUsers` consecutive ids (block b holds users
 * b*blockUsers+1 .. (b+1)*blockUsers, the last one shorter) and this worker generates blocks
 * index, index+stride, index+2*stride, … in that order, each as a range of the engine.
 */
export interface WorkerData {
  config: GenerationConfig;
  blocks?: { blockUsers: number; index: number; stride: number };
}

/** ~1 MiB of packed batches per message. */
export const CHUNK_DOUBLES = 1 << 17;
/** Chunks a single worker may run ahead of the consumer (bounds memory). */
export const MAX_CHUNKS_IN_FLIGHT = 4;

/** Chunks each of `workers` parallel workers may run ahead: ≤ 16 MiB in all, at least 4 each. */
export function chunksInFlight(workers: number): number {
  return workers <= 1 ? MAX_CHUNKS_IN_FLIGHT : Math.max(MAX_CHUNKS_IN_FLIGHT, Math.floor(16 / workers));
}

/** Users ids of block `b`, or undefined past the last user. */
export function blockRange(users: number, blockUsers: number, b: number): { from: number; to: number } | undefined {
  const from = b * blockUsers + 1;
  if (from > users) return undefined;
  return { from, to: Math.min(users, from + blockUsers - 1) };
}
