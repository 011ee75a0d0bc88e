import { Worker } from 'node:worker_threads';
import type { GenerationConfig } from '../config/schema.js';
import { unpackBatches } from './batch-codec.js';
import { createEngine } from './create-engine.js';
import { blockUsersFor, engineRange, supportsUserRanges } from './engine-range.js';
import type { UserBatch } from './user-batch.js';
import { blockRange, CHUNK_DOUBLES, type EngineMessage, type WorkerData } from './worker-protocol.js';

export interface BatchSourceOptions {
  /** URL of the bundled engine-worker script: generate on other threads while this one writes. */
  worker?: URL;
  /** Engine threads (default 1); above 1 the engine must support user ranges (seedrandom). */
  workers?: number;
  /** Users per block when split (default: about one ~1 MiB chunk of batches, from the rates). */
  blockUsers?: number;
}

/**
 * The batches of a config, in user order, as a stream of runs of batches. With a worker URL the
 * engine runs on `workers` other threads while this one writes; without, in this thread. Either
 * way the batches, and so the bytes, are the same, except `uploadTxnId`, which consumers renumber.
 *
 * With several workers the users are cut into blocks of consecutive ids dealt round-robin (block b
 * to worker b mod N), and the blocks are read back in order. Each worker runs ahead by a bounded
 * number of ~1 MiB chunks, so memory stays flat whatever the number of users, and every worker
 * keeps generating while the consumer reads another's block. (N contiguous ranges, one per worker,
 * would either buffer whole ranges or leave workers 2..N idle until the consumer reached them.)
 */
export function batchSource(config: GenerationConfig, options: BatchSourceOptions = {}): AsyncIterable<Iterable<UserBatch>> {
  const { worker, workers = 1, blockUsers: askedBlockUsers } = options;
  if (!Number.isInteger(workers) || workers < 1) throw new Error(`workers must be a positive integer (got ${workers})`);
  if (workers > 1 && !supportsUserRanges(config)) {
    throw new Error(`${workers} workers need an engine that generates users independently ("engine": "seedrandom"); the ${config.engine} engine is one sequential random stream`);
  }
  const blockUsers = askedBlockUsers ?? blockUsersFor(config, CHUNK_DOUBLES);
  if (!worker) return workers > 1 ? blocksInProcess(config, blockUsers) : batchesInProcess(config);
  if (workers === 1) return batchesFromWorkers(config, worker, 1, blockUsers);
  return batchesFromWorkers(config, worker, Math.min(workers, Math.ceil(config.users / blockUsers)), blockUsers);
}

async function* batchesInProcess(config: GenerationConfig): AsyncGenerator<Iterable<UserBatch>> {
  yield createEngine(config);
}

/** The same blocks the workers would make, one after the other in this thread (tests, no bundle). */
async function* blocksInProcess(config: GenerationConfig, blockUsers: number): AsyncGenerator<Iterable<UserBatch>> {
  for (let b = 0; ; b++) {
    const range = blockRange(config.users, blockUsers, b);
    if (!range) return;
    yield engineRange(config, range);
  }
}

type Inbox = { next(): Promise<EngineMessage | { type: 'exit'; code: number }>; worker: Worker };

function startWorker(url: URL, data: WorkerData): Inbox {
  const worker = new Worker(url, { workerData: data });
  const queue: Array<EngineMessage | { type: 'exit'; code: number }> = [];
  let notify: (() => void) | undefined;
  const push = (message: (typeof queue)[number]): void => {
    queue.push(message);
    notify?.();
  };
  worker.on('message', push);
  worker.on('error', (error) => push({ type: 'error', message: error.stack ?? String(error) }));
  worker.on('exit', (code) => push({ type: 'exit', code }));
  return {
    worker,
    async next() {
      while (queue.length === 0) await new Promise<void>((resolve) => (notify = resolve));
      return queue.shift()!;
    },
  };
}

async function* batchesFromWorkers(config: GenerationConfig, url: URL, workers: number, blockUsers: number): AsyncGenerator<Iterable<UserBatch>> {
  const inboxes =
    workers === 1
      ? [startWorker(url, { config })]
      : Array.from({ length: workers }, (_, index) => startWorker(url, { config, blocks: { blockUsers, index, stride: workers } }));
  try {
    if (workers === 1) {
      // The whole run from one worker, until it says done.
      yield* readUntil(inboxes[0], 'done');
      return;
    }
    for (let b = 0; blockRange(config.users, blockUsers, b); b++) yield* readUntil(inboxes[b % workers], 'blockEnd');
    for (const inbox of inboxes) {
      const last = await inbox.next();
      if (last.type !== 'done') failed(last);
    }
  } finally {
    await Promise.all(inboxes.map((i) => i.worker.terminate()));
  }
}

/** Chunks of one worker, acked once consumed, until its 'done' or the end of its current block. */
async function* readUntil(inbox: Inbox, end: 'done' | 'blockEnd'): AsyncGenerator<Iterable<UserBatch>> {
  for (;;) {
    const message = await inbox.next();
    if (message.type === 'done' && end === 'done') return;
    if (message.type !== 'chunk') failed(message);
    if (message.data.length > 0) yield unpackBatches(message.data);
    inbox.worker.postMessage('ack');
    if (end === 'blockEnd' && message.blockEnd) return;
  }
}

function failed(message: EngineMessage | { type: 'exit'; code: number }): never {
  if (message.type === 'error') throw new Error(`engine worker failed: ${message.message}`);
  if (message.type === 'exit') throw new Error(`engine worker exited with code ${message.code} before finishing`);
  throw new Error(`engine worker sent an unexpected ${message.type}`);
}
