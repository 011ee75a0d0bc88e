import { MessageChannel, Worker, type Transferable } from 'node:worker_threads';
import type { GenerationConfig } from '../config/schema.js';
import { createEngine } from '../engine/create-engine.js';
import { blockUsersFor, engineRange, supportsUserRanges } from '../engine/engine-range.js';
import { blockCount, blockRange, type ParentMessage, type WorkerData, type WorkerMessage } from './worker-protocol.js';
import { OperationError } from '../errors/operation-error.js';
import { formatRange, RowFormatting, type RowsPart } from '../rows/user-rows.js';

export interface UserRowsOptions {
  /** URL of the bundled engine-worker script: generate and format on other threads while this one writes. */
  worker?: URL;
  /**
   * Threads that generate and format (default 1). With an engine that generates users
   * independently (seedrandom) they split the users; the reference engine is one random stream,
   * so from 2 on its second thread formats some of the tables and more add nothing.
   */
  workers?: number;
  /** Users per block when split, by users or by table (default: sized from the rates, about 1–2 MB of CSV). */
  blockUsers?: number;
}

/**
 * The per-user tables' rows of a config, as chunks in file order (users 1..n); the last chunk of
 * each range of users carries that range's report (one range for the whole run, or one per block).
 * The bytes do not depend on where they were made:
 * - without a worker URL, in this thread (the Lambda, the tests), as blocks if `workers` > 1;
 * - with one worker, that thread generates and formats the whole run while this one writes;
 * - with N workers, the users are cut into blocks of consecutive ids dealt round-robin (block b
 *   to worker b mod N) and read back in order. Each worker formats its blocks itself, learning a
 *   block's first txn id from the upload counts the workers share, and runs ahead by a bounded
 *   number of chunks, so memory stays flat whatever the number of users;
 * - with 2 or more workers and the reference engine, two threads split the tables (`TABLE_SPLIT`):
 *   each table's chunks come from one thread, in order, and are read as they arrive.
 */
export function userRows(
  config: GenerationConfig,
  options: UserRowsOptions = {},
): AsyncIterable<RowsPart> | Iterable<RowsPart> {
  const { worker, workers = 1 } = options;
  if (!Number.isInteger(workers) || workers < 1) throw new Error(`workers must be a positive integer (got ${workers})`);
  if (!supportsUserRanges(config)) {
    if (!worker) return wholeRunInProcess(config);
    return workers > 1 ? tablesFromWorkerPair(config, worker, options.blockUsers) : wholeRunFromWorker(config, worker);
  }
  const blockUsers = options.blockUsers ?? blockUsersFor(config);
  const threads = Math.min(workers, blockCount(config.users, blockUsers));
  if (!worker) return threads > 1 ? blocksInProcess(config, blockUsers) : wholeRunInProcess(config);
  return threads > 1 ? blocksFromWorkers(config, worker, threads, blockUsers) : wholeRunFromWorker(config, worker);
}

function* wholeRunInProcess(config: GenerationConfig): Generator<RowsPart> {
  yield* formatRange(new RowFormatting(config), { from: 1, to: config.users }, 1, createEngine(config));
}

/** The same blocks the workers would make, one after the other in this thread (tests, no bundle). */
function* blocksInProcess(config: GenerationConfig, blockUsers: number): Generator<RowsPart> {
  const formatting = new RowFormatting(config);
  let txnFrom = 1;
  for (let b = 0; ; b++) {
    const range = blockRange(config.users, blockUsers, b);
    if (!range) return;
    const last = !blockRange(config.users, blockUsers, b + 1);
    for (const part of formatRange(formatting, range, txnFrom, engineRange(config, range), last)) {
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

type Received = WorkerMessage | { type: 'exit'; code: number };

interface Inbox {
  worker: Worker;
  /** The next message, waiting for it. */
  next(): Promise<Received>;
  /** The next message if one is in. */
  poll(): Received | undefined;
  /** Called on each message that comes in (for whoever waits on several inboxes). */
  onMessage?: () => void;
}

function startWorker(url: URL, data: WorkerData, transferList: Transferable[] = []): Inbox {
  const worker = new Worker(url, {
    workerData: data,
    transferList,
    resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB },
  });
  const queue: Received[] = [];
  let notify: (() => void) | undefined;
  const inbox: Inbox = {
    worker,
    async next() {
      for (;;) {
        const message = queue.shift();
        if (message) return message;
        await new Promise<void>((resolve) => (notify = resolve));
      }
    },
    poll: () => queue.shift(),
  };
  const push = (message: Received): void => {
    queue.push(message);
    notify?.();
    inbox.onMessage?.();
  };
  worker.on('message', push);
  worker.on('error', (error: Error) => push({ type: 'error', message: error.stack ?? String(error) }));
  worker.on('exit', (code) => push({ type: 'exit', code }));
  return inbox;
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

async function* blocksFromWorkers(
  config: GenerationConfig,
  url: URL,
  workers: number,
  blockUsers: number,
): AsyncGenerator<RowsPart> {
  const blocks = blockCount(config.users, blockUsers);
  const uploadCounts = new SharedArrayBuffer(4 * blocks);
  new Int32Array(uploadCounts).fill(-1);
  const inboxes = Array.from({ length: workers }, (_, index) =>
    startWorker(url, { config, blocks: { blockUsers, index, stride: workers, uploadCounts } }),
  );
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
    yield* consumed(inbox, message);
    if (message.report) return;
  }
}

/** A worker's chunk as a part that hands its memory back; acked once the consumer is done with it. */
function* consumed(inbox: Inbox, message: Extract<WorkerMessage, { type: 'chunk' }>): Generator<RowsPart> {
  const buffers = message.chunk.bytes.map((b) => b.buffer as ArrayBuffer);
  const handBack = (): void => {
    const back: ParentMessage = { type: 'handBack', tables: buffers.map((_, i) => i), buffers };
    inbox.worker.postMessage(back, buffers);
  };
  yield { chunk: message.chunk, report: message.report, handBack };
  inbox.worker.postMessage('ack' satisfies ParentMessage);
}

/**
 * The two threads of a run split by table, each table's chunks in order from the thread that
 * formats it; the chunks of the two are read as they arrive, so neither waits on the other's.
 */
async function* tablesFromWorkerPair(
  config: GenerationConfig,
  url: URL,
  blockUsers?: number,
): AsyncGenerator<RowsPart> {
  const { port1, port2 } = new MessageChannel();
  const inboxes = [
    startWorker(url, { config, pair: { role: 'engine', port: port1, blockUsers } }, [port1]),
    startWorker(url, { config, pair: { role: 'companion', port: port2 } }, [port2]),
  ];
  try {
    const running = new Set(inboxes);
    while (running.size > 0) {
      let next: { inbox: Inbox; message: Received } | undefined;
      for (const inbox of running) {
        const message = inbox.poll();
        if (message) {
          next = { inbox, message };
          break;
        }
      }
      if (!next) {
        await new Promise<void>((resolve) => running.forEach((i) => (i.onMessage = resolve)));
        continue;
      }
      const { inbox, message } = next;
      if (message.type === 'done') running.delete(inbox);
      else if (message.type === 'chunk') yield* consumed(inbox, message);
      else failed(message);
    }
  } finally {
    await Promise.all(inboxes.map((i) => i.worker.terminate()));
  }
}

async function expectDone(inbox: Inbox): Promise<void> {
  const last = await inbox.next();
  if (last.type !== 'done') failed(last);
}

function failed(message: Received): never {
  if (message.type === 'error')
    throw message.operation
      ? new OperationError(message.message)
      : new Error(`engine worker failed: ${message.message}`);
  if (message.type === 'exit') throw new Error(`engine worker exited with code ${message.code} before finishing`);
  throw new Error(`engine worker sent an unexpected ${message.type}`);
}
