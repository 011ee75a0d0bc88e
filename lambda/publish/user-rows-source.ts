import { Worker } from 'node:worker_threads';
import type { GenerationConfig } from '../config/schema.js';
import { createEngine } from '../engine/create-engine.js';
import { blockUsersFor, engineRange, supportsUserRanges } from '../engine/engine-range.js';
import { blockCount, blockRange, type ParentMessage, type WorkerData, type WorkerMessage } from '../engine/worker-protocol.js';
import { formatRange, RowFormatting, type RowsPart } from './user-rows.js';

export interface UserRowsOptions {
  /** URL of the bundled engine-worker script: generate and format on other threads while this one writes. */
  worker?: URL;
  /** Threads that generate and format (default 1); above 1 the engine must support user ranges (seedrandom). */
  workers?: number;
  /** Users per block when split (default: sized from the rates, about 1–2 MB of CSV). */
  blockUsers?: number;
}

/** Packed doubles per block that `blockUsersFor` sizes blocks by: ~0.5 MiB of batches, ~900 users at default rates (~2 MB of CSV). */
const BLOCK_DOUBLES = 1 << 16;

/**
 * The per-user tables' rows of a config, as chunks in file order (users 1..n); the last chunk of
 * each range of users carries that range's report (one range for the whole run, or one per block).
 * The bytes do not depend on where they were made:
 * - without a worker URL, in this thread (the Lambda, the tests), as blocks if `workers` > 1;
 * - with one worker, that thread generates and formats the whole run while this one writes;
 * - with N workers, the users are cut into blocks of consecutive ids dealt round-robin (block b
 *   to worker b mod N) and read back in order. Each worker formats its blocks itself, learning a
 *   block's first txn id from the upload counts the workers share, and runs ahead by a bounded
 *   number of chunks, so memory stays flat whatever the number of users.
 */
export function userRows(config: GenerationConfig, options: UserRowsOptions = {}): AsyncIterable<RowsPart> {
  const { worker, workers = 1 } = options;
  if (!Number.isInteger(workers) || workers < 1) throw new Error(`workers must be a positive integer (got ${workers})`);
  if (workers > 1 && !supportsUserRanges(config)) {
    throw new Error(`${workers} workers need an engine that generates users independently ("engine": "seedrandom"); the ${config.engine} engine is one sequential random stream`);
  }
  const blockUsers = options.blockUsers ?? blockUsersFor(config, BLOCK_DOUBLES);
  const threads = Math.min(workers, blockCount(config.users, blockUsers));
  if (!worker) return threads > 1 ? blocksInProcess(config, blockUsers) : wholeRunInProcess(config);
  return threads > 1 ? blocksFromWorkers(config, worker, threads, blockUsers) : wholeRunFromWorker(config, worker);
}

async function* wholeRunInProcess(config: GenerationConfig): AsyncGenerator<RowsPart> {
  yield* formatRange(new RowFormatting(config), { from: 1, to: config.users }, 1, createEngine(config));
}

/** The same blocks the workers would make, one after the other in this thread (tests, no bundle). */
async function* blocksInProcess(config: GenerationConfig, blockUsers: number): AsyncGenerator<RowsPart> {
  const formatting = new RowFormatting(config);
  let txnFrom = 1;
  for (let b = 0; ; b++) {
    const range = blockRange(config.users, blockUsers, b);
    if (!range) return;
    for (const part of formatRange(formatting, range, txnFrom, engineRange(config, range))) {
      if (part.report) txnFrom += part.report.uploads;
      yield part;
    }
  }
}

/**
 * Each worker's young generation, capped: formatting allocates short-lived strings (the task
 * rows' numbers), and V8's default young generation (up to ~48 MB an isolate) took the peak RSS
 * of 1,000,000 users on 2 workers to ~280 MB; at 16 MB it is ~225 MB, for a little more GC.
 */
const WORKER_YOUNG_GENERATION_MB = 16;

type Inbox = { next(): Promise<WorkerMessage | { type: 'exit'; code: number }>; worker: Worker };

function startWorker(url: URL, data: WorkerData): Inbox {
  const worker = new Worker(url, { workerData: data, resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB } });
  const queue: Array<WorkerMessage | { type: 'exit'; code: number }> = [];
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

async function* wholeRunFromWorker(config: GenerationConfig, url: URL): AsyncGenerator<RowsPart> {
  const inbox = startWorker(url, { config });
  try {
    yield* readRange(inbox);
    await expectDone(inbox);
  } finally {
    await inbox.worker.terminate();
  }
}

async function* blocksFromWorkers(config: GenerationConfig, url: URL, workers: number, blockUsers: number): AsyncGenerator<RowsPart> {
  const blocks = blockCount(config.users, blockUsers);
  const uploadCounts = new SharedArrayBuffer(4 * blocks);
  new Int32Array(uploadCounts).fill(-1);
  const inboxes = Array.from({ length: workers }, (_, index) => startWorker(url, { config, blocks: { blockUsers, index, stride: workers, uploadCounts } }));
  try {
    for (let b = 0; b < blocks; b++) yield* readRange(inboxes[b % workers]);
    for (const inbox of inboxes) await expectDone(inbox);
  } finally {
    await Promise.all(inboxes.map((i) => i.worker.terminate()));
  }
}

/** One range's chunks from a worker (acked once consumed), up to the one carrying its report. */
async function* readRange(inbox: Inbox): AsyncGenerator<RowsPart> {
  for (;;) {
    const message = await inbox.next();
    if (message.type !== 'chunk') failed(message);
    const buffers = message.chunk.bytes.map((b) => b.buffer as ArrayBuffer);
    const handBack = (): void => {
      const back: ParentMessage = { type: 'handBack', tables: buffers.map((_, i) => i), buffers };
      inbox.worker.postMessage(back, buffers);
    };
    yield { chunk: message.chunk, report: message.report, handBack };
    inbox.worker.postMessage('ack' satisfies ParentMessage);
    if (message.report) return;
  }
}

async function expectDone(inbox: Inbox): Promise<void> {
  const last = await inbox.next();
  if (last.type !== 'done') failed(last);
}

function failed(message: WorkerMessage | { type: 'exit'; code: number }): never {
  if (message.type === 'error') throw new Error(`engine worker failed: ${message.message}`);
  if (message.type === 'exit') throw new Error(`engine worker exited with code ${message.code} before finishing`);
  throw new Error(`engine worker sent an unexpected ${message.type}`);
}
