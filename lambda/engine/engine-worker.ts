import { parentPort, workerData } from 'node:worker_threads';
import type { GenerationConfig } from '../config/schema.js';
import { BatchPacker } from './batch-codec.js';
import { createEngine } from './create-engine.js';
import { MAX_CHUNKS_IN_FLIGHT, type EngineMessage, CHUNK_DOUBLES } from './worker-protocol.js';

/** Worker thread: runs an engine and streams its batches, packed, to the parent. */
const port = parentPort!;
const config = workerData as GenerationConfig;
let inFlight = 0;
let wake: (() => void) | undefined;
port.on('message', () => {
  inFlight--;
  wake?.();
});
const post = async (message: EngineMessage, transfer: ArrayBuffer[] = []): Promise<void> => {
  port.postMessage(message, transfer);
  inFlight++;
  while (inFlight >= MAX_CHUNKS_IN_FLIGHT) await new Promise<void>((resolve) => (wake = resolve));
};

try {
  const packer = new BatchPacker(CHUNK_DOUBLES);
  for (const batch of createEngine(config)) {
    packer.add(batch);
    if (packer.size >= CHUNK_DOUBLES) {
      const data = packer.take();
      await post({ type: 'chunk', data }, [data.buffer as ArrayBuffer]);
    }
  }
  const data = packer.take();
  if (data.length > 0) await post({ type: 'chunk', data }, [data.buffer as ArrayBuffer]);
  port.postMessage({ type: 'done' } satisfies EngineMessage);
} catch (error) {
  port.postMessage({ type: 'error', message: (error as Error).stack ?? String(error) } satisfies EngineMessage);
}
