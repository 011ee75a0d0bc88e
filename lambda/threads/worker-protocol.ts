import type { MessagePort } from 'node:worker_threads';
import type { GenerationConfig } from '../config/schema.js';
import type { ChunkMemory, RowsPart } from '../rows/user-rows.js';

/**
 * Messages from a worker to its parent; the parent answers each chunk with an ack once it has
 * written it. The last chunk of a range of users (a block, or the whole run) carries its report.
 */
export type WorkerMessage =
  | ({ type: 'chunk' } & RowsPart)
  | { type: 'done' }
  // `operation`: the message is an OperationError's one line (e.g. a user over the upload limit), rethrown as one by the parent.
  | { type: 'error'; message: string; operation?: true };

/**
 * What a worker generates and formats. Without `blocks` or `pair`, the whole run (users 1..n, txn ids from
 * 1; any engine). With `blocks`, users are cut into blocks of `blockUsers` consecutive ids (block
 * b holds users b*blockUsers+1 .. (b+1)*blockUsers, the last one shorter) and this worker takes
 * blocks index, index+stride, … in that order. `uploadCounts` (an Int32Array per block, -1 until
 * known, shared by all workers) is where each worker posts its blocks' upload counts and learns
 * the others': a block's first txn id is 1 + the uploads of all blocks before it.
 */
export interface WorkerData {
  config: GenerationConfig;
  blocks?: { blockUsers: number; index: number; stride: number; uploadCounts: SharedArrayBuffer };
  /**
   * With `pair`, two workers share the whole run by table (an engine that is one random stream):
   * `engine` generates, `companion` formats the tables of `TABLE_SPLIT` from the engine thread's
   * packed blocks of `blockUsers` users (default: sized from the rates), which come over `port`
   * (see table-split.ts).
   */
  pair?: { role: 'engine' | 'companion'; port: MessagePort; blockUsers?: number };
}

/**
 * Messages from the parent: an ack per chunk consumed, and the memory of chunks written out, for
 * reuse (`tables[i]` is the table of `buffers[i]`).
 */
export type ParentMessage = 'ack' | { type: 'handBack'; tables: number[]; buffers: ArrayBuffer[] };

/** What a worker thread gives the code it runs: posting a chunk (with back-pressure), chunk memory. */
export interface WorkerIo {
  post(part: RowsPart): Promise<void>;
  chunkMemory: ChunkMemory;
}

/** Chunks a single worker may run ahead of the consumer (bounds memory). */
export const MAX_CHUNKS_IN_FLIGHT = 4;

/**
 * Chunks each of `workers` parallel workers may run ahead: about 24 in all, at least 4 each. The
 * parent reads blocks in order, so a worker that was not descheduled runs ahead of one that was;
 * 12 each for 2 workers (~0.1 s of formatting) absorbs most of that (8 each: ~1 s of waiting in
 * a 1,000,000-user run; 16 each: no faster, 12 MB more).
 */
export function chunksInFlight(workers: number): number {
  return workers <= 1 ? MAX_CHUNKS_IN_FLIGHT : Math.max(MAX_CHUNKS_IN_FLIGHT, Math.floor(24 / workers));
}

/** Users ids of block `b`, or undefined past the last user. */
export function blockRange(users: number, blockUsers: number, b: number): { from: number; to: number } | undefined {
  const from = b * blockUsers + 1;
  if (from > users) return undefined;
  return { from, to: Math.min(users, from + blockUsers - 1) };
}

export function blockCount(users: number, blockUsers: number): number {
  return Math.ceil(users / blockUsers);
}
