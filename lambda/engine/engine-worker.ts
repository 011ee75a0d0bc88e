import { parentPort, workerData } from 'node:worker_threads';
import { formatRange, RowFormatting, type RowsPart } from '../publish/user-rows.js';
import { PackedBatches } from './batch-codec.js';
import { createEngine } from './create-engine.js';
import { engineRange } from './engine-range.js';
import { runCompanionThread, runEngineThread } from './table-split.js';
import { blockRange, chunksInFlight, type ParentMessage, type WorkerData, type WorkerMessage } from './worker-protocol.js';

/**
 * Worker thread: generates users and formats their rows (checks included), so the parent only
 * hashes and writes. The whole run, blocks of users, or half of a run split by table (see `WorkerData`).
 */
const port = parentPort!;
const { config, blocks, pair } = workerData as WorkerData;
const maxInFlight = chunksInFlight(blocks?.stride ?? 1);
let inFlight = 0;
let wake: (() => void) | undefined;

// Chunk memory the parent handed back, per table: reused, so that the bytes do not land in fresh
// pages each time (first-touch page faults cost more than formatting here). Bounded per table.
const MAX_POOLED = 32;
const pools: ArrayBuffer[][] = [];
function chunkMemory(table: number, bytes: number): Uint8Array {
  const pool = (pools[table] ??= []);
  for (let i = pool.length - 1; i >= 0; i--) {
    if (pool[i].byteLength >= bytes) return new Uint8Array(pool.splice(i, 1)[0], 0, bytes);
  }
  // Room to spare, so that the buffer fits later chunks of the table too.
  return Buffer.allocUnsafeSlow(bytes + (bytes >> 2) + 4096).subarray(0, bytes);
}

port.on('message', (message: ParentMessage) => {
  if (message === 'ack') {
    inFlight--;
    wake?.();
    return;
  }
  message.buffers.forEach((buffer, i) => {
    const pool = (pools[message.tables[i]] ??= []);
    if (pool.length < MAX_POOLED) pool.push(buffer);
  });
});

async function post(part: RowsPart): Promise<void> {
  const message: WorkerMessage = { type: 'chunk', ...part };
  port.postMessage(message, part.chunk.bytes.map((b) => b.buffer as ArrayBuffer));
  inFlight++;
  while (inFlight >= maxInFlight) await new Promise<void>((resolve) => (wake = resolve));
}

/**
 * This worker's blocks. A block's first txn id depends on the upload counts of all blocks before
 * it, which other workers are generating at the same time. Generating is cheap next to
 * formatting, so each worker generates its blocks into stores well ahead of formatting them and
 * posts their counts at once; it formats its oldest stored block once the counts before it are in.
 * A block is at least one chunk, so a worker formats at most `maxInFlight` blocks ahead of the
 * parent: as many stored blocks keep its counts ahead of where any other worker formats, and
 * nobody waits on a worker that was descheduled mid-block.
 */
async function runBlocks({ blockUsers, index, stride, uploadCounts }: NonNullable<WorkerData['blocks']>): Promise<void> {
  const counts = new Int32Array(uploadCounts);
  let counted = 0;
  let uploadsBefore = 0;
  /** The first txn id of `block`, once every block before it has been counted. */
  const txnFrom = (block: number): number => {
    while (counted < block) {
      const n = Atomics.load(counts, counted);
      if (n >= 0) {
        uploadsBefore += n;
        counted++;
      }
      // Timed, so that a terminate() from the parent (another worker failed) is not held up.
      else Atomics.wait(counts, counted, -1, 250);
    }
    return uploadsBefore + 1;
  };
  const formatting = new RowFormatting(config, { chunkMemory });
  const free = Array.from({ length: maxInFlight }, () => new PackedBatches()); // ~0.5 MiB each when full
  const stored: Array<{ block: number; range: { from: number; to: number }; store: PackedBatches }> = [];
  let block = index;
  for (;;) {
    for (let range = blockRange(config.users, blockUsers, block); range && free.length > 0; block += stride, range = blockRange(config.users, blockUsers, block)) {
      const store = free.pop()!;
      store.clear();
      for (const batch of engineRange(config, range)) store.add(batch);
      if (store.uploads > 0x7fffffff) throw new Error(`block ${block} has ${store.uploads} uploads, more than a block can count`);
      Atomics.store(counts, block, store.uploads);
      Atomics.notify(counts, block);
      stored.push({ block, range, store });
    }
    const oldest = stored.shift();
    if (!oldest) return;
    for (const part of formatRange(formatting, oldest.range, txnFrom(oldest.block), oldest.store.batches())) await post(part);
    free.push(oldest.store);
  }
}

try {
  if (blocks) await runBlocks(blocks);
  else if (pair?.role === 'engine') await runEngineThread(config, pair.port, { post, chunkMemory }, pair.blockUsers);
  else if (pair) await runCompanionThread(config, pair.port, { post, chunkMemory });
  else for (const part of formatRange(new RowFormatting(config, { chunkMemory }), { from: 1, to: config.users }, 1, createEngine(config))) await post(part);
  port.postMessage({ type: 'done' } satisfies WorkerMessage);
} catch (error) {
  port.postMessage({ type: 'error', message: (error as Error).stack ?? String(error) } satisfies WorkerMessage);
}
