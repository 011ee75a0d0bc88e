import { parentPort, workerData } from 'node:worker_threads';
import { BatchPacker } from './batch-codec.js';
import { createEngine } from './create-engine.js';
import { engineRange } from './engine-range.js';
import type { UserBatch } from './user-batch.js';
import { blockRange, chunksInFlight, type EngineMessage, CHUNK_DOUBLES, type WorkerData } from './worker-protocol.js';

/** Worker thread: runs an engine (the whole run, or its blocks of users) and streams its batches, packed, to the parent. */
const port = parentPort!;
const { config, blocks } = workerData as WorkerData;
const maxInFlight = chunksInFlight(blocks?.stride ?? 1);
let inFlight = 0;
let wake: (() => void) | undefined;
port.on('message', () => {
  inFlight--;
  wake?.();
});
const post = async (message: EngineMessage, transfer: ArrayBuffer[] = []): Promise<void> => {
  port.postMessage(message, transfer);
  inFlight++;
  while (inFlight >= maxInFlight) await new Promise<void>((resolve) => (wake = resolve));
};

const packer = new BatchPacker(CHUNK_DOUBLES);
async function stream(batches: Iterable<UserBatch>, blockEnd: boolean): Promise<void> {
  for (const batch of batches) {
    packer.add(batch);
    if (packer.size >= CHUNK_DOUBLES) {
      const data = packer.take();
      await post({ type: 'chunk', data }, [data.buffer as ArrayBuffer]);
    }
  }
  const data = packer.take();
  if (data.length > 0 || blockEnd) await post({ type: 'chunk', data, blockEnd }, [data.buffer as ArrayBuffer]);
}

try {
  if (!blocks) await stream(createEngine(config), false);
  else {
    for (let b = blocks.index; ; b += blocks.stride) {
      const range = blockRange(config.users, blocks.blockUsers, b);
      if (!range) break;
      await stream(engineRange(config, range), true);
    }
  }
  port.postMessage({ type: 'done' } satisfies EngineMessage);
} catch (error) {
  port.postMessage({ type: 'error', message: (error as Error).stack ?? String(error) } satisfies EngineMessage);
}
