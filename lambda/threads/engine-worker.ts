import { parentPort, workerData } from 'node:worker_threads';
import { OperationError } from '../errors/operation-error.js';
import { formatRange, RowFormatting, type RowsPart } from '../rows/user-rows.js';
import { createEngine } from '../engine/create-engine.js';
import { runCompanionThread, runEngineThread } from './table-split.js';
import { runBlocks } from './user-blocks.js';
import { chunksInFlight, type ParentMessage, type WorkerData, type WorkerMessage } from './worker-protocol.js';

/**
 * Worker thread: generates users and formats their rows (checks included), so the parent only
 * hashes and writes. The whole run, blocks of users, or half of a run split by table (see `WorkerData`).
 */
if (!parentPort) throw new Error('the engine worker runs only on a worker thread');
const port = parentPort;
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
  port.postMessage(message, [
    ...part.chunk.bytes.map((b) => b.buffer as ArrayBuffer),
    ...(part.chunk.batches?.block.buffers ?? []),
  ]);
  inFlight++;
  while (inFlight >= maxInFlight) await new Promise<void>((resolve) => (wake = resolve));
}

try {
  const io = { post, chunkMemory };
  if (blocks) await runBlocks(config, blocks, io, maxInFlight);
  else if (pair?.role === 'engine') await runEngineThread(config, pair.port, io, pair.blockUsers);
  else if (pair) await runCompanionThread(config, pair.port, io);
  else
    for (const part of formatRange(
      new RowFormatting(config, { chunkMemory }),
      { from: 1, to: config.users },
      1,
      createEngine(config),
    ))
      await post(part);
  port.postMessage({ type: 'done' } satisfies WorkerMessage);
} catch (error) {
  const message: WorkerMessage =
    error instanceof OperationError
      ? { type: 'error', message: error.message, operation: true }
      : { type: 'error', message: (error as Error).stack ?? String(error) };
  port.postMessage(message);
}
