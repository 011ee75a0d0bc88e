import { parentPort, workerData } from 'node:worker_threads';
import { formatRange, RowFormatting, type RowsPart } from '../publish/user-rows.js';
import { PackedBatches } from './batch-codec.js';
import { createEngine } from './create-engine.js';
import { engineRange } from './engine-range.js';
import { blockRange, chunksInFlight, type ParentMessage, type WorkerData, type WorkerMessage } from './worker-protocol.js';

/**
 * Worker thread: generates users and formats their rows (checks included), so the parent only
 * hashes and writes. The whole run, or blocks of users (see `WorkerData`).
 */
const port = parentPort!;
const { config, blocks } = workerData as WorkerData;
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

/** Blocks generated and waiting for their first txn id, at most (each ~1 MiB of batches). */
const MAX_PENDING_BLOCKS = 4;

/**
 * This worker's blocks. A block's first txn id depends on the upload counts of all blocks before
 * it, which other workers are generating at the same time. So each block is generated into a
 * store and its count posted for the others; stored blocks are formatted, oldest first, as soon
 * as their first txn id is known, and until then this worker generates its next blocks rather
 * than wait (it waits only with `MAX_PENDING_BLOCKS` stored).
 */
async function runBlocks({ blockUsers, index, stride, uploadCounts }: NonNullable<WorkerData['blocks']>): Promise<void> {
  const counts = new Int32Array(uploadCounts);
  let counted = 0;
  let uploadsBefore = 0;
  /** The first txn id of `block`, once every block before it has been counted (waiting for that only if `wait`). */
  const txnFrom = (block: number, wait: boolean): number | undefined => {
    while (counted < block) {
      const n = Atomics.load(counts, counted);
      if (n >= 0) {
        uploadsBefore += n;
        counted++;
      } else if (!wait) return undefined;
      // Timed, so that a terminate() from the parent (another worker failed) is not held up.
      else Atomics.wait(counts, counted, -1, 250);
    }
    return uploadsBefore + 1;
  };
  const formatting = new RowFormatting(config, chunkMemory);
  const free = Array.from({ length: MAX_PENDING_BLOCKS }, () => new PackedBatches());
  const pending: Array<{ block: number; range: { from: number; to: number }; store: PackedBatches }> = [];
  const formatOldest = async (wait: boolean): Promise<boolean> => {
    const oldest = pending[0];
    const from = oldest && txnFrom(oldest.block, wait);
    if (from === undefined) return false;
    for (const part of formatRange(formatting, oldest.range, from, oldest.store.batches())) await post(part);
    pending.shift();
    free.push(oldest.store);
    return true;
  };
  for (let block = index; ; block += stride) {
    const range = blockRange(config.users, blockUsers, block);
    if (!range) break;
    if (free.length === 0) await formatOldest(true);
    const store = free.pop()!;
    store.clear();
    for (const batch of engineRange(config, range)) store.add(batch);
    if (store.uploads > 0x7fffffff) throw new Error(`block ${block} has ${store.uploads} uploads, more than a block can count`);
    Atomics.store(counts, block, store.uploads);
    Atomics.notify(counts, block);
    pending.push({ block, range, store });
    while (await formatOldest(false));
  }
  while (pending.length > 0) await formatOldest(true);
}

try {
  if (blocks) await runBlocks(blocks);
  else for (const part of formatRange(new RowFormatting(config, chunkMemory), { from: 1, to: config.users }, 1, createEngine(config))) await post(part);
  port.postMessage({ type: 'done' } satisfies WorkerMessage);
} catch (error) {
  port.postMessage({ type: 'error', message: (error as Error).stack ?? String(error) } satisfies WorkerMessage);
}
