import { Worker } from 'node:worker_threads';
import type { GenerationConfig } from '../config/schema.js';
import { unpackBatches } from './batch-codec.js';
import { createEngine } from './create-engine.js';
import type { UserBatch } from './user-batch.js';
import type { EngineMessage } from './worker-protocol.js';

/**
 * The batches of a config as a stream of runs of batches. With `worker` (the URL of the bundled
 * engine-worker script) the engine runs on a second thread while this one writes; without, in
 * this thread. Either way the batches, and so the bytes, are the same.
 */
export function batchSource(config: GenerationConfig, worker?: URL): AsyncIterable<Iterable<UserBatch>> {
  return worker ? batchesFromWorker(config, worker) : batchesInProcess(config);
}

async function* batchesInProcess(config: GenerationConfig): AsyncGenerator<Iterable<UserBatch>> {
  yield createEngine(config);
}

async function* batchesFromWorker(config: GenerationConfig, url: URL): AsyncGenerator<Iterable<UserBatch>> {
  const worker = new Worker(url, { workerData: config });
  const queue: Array<EngineMessage | { type: 'exit'; code: number }> = [];
  let notify: (() => void) | undefined;
  const push = (message: (typeof queue)[number]): void => {
    queue.push(message);
    notify?.();
  };
  worker.on('message', push);
  worker.on('error', (error) => push({ type: 'error', message: error.stack ?? String(error) }));
  worker.on('exit', (code) => push({ type: 'exit', code }));
  try {
    for (;;) {
      while (queue.length === 0) await new Promise<void>((resolve) => (notify = resolve));
      const message = queue.shift()!;
      if (message.type === 'done') return;
      if (message.type === 'error') throw new Error(`engine worker failed: ${message.message}`);
      if (message.type === 'exit') throw new Error(`engine worker exited with code ${message.code} before finishing`);
      yield unpackBatches(message.data);
      worker.postMessage('ack');
    }
  } finally {
    await worker.terminate();
  }
}
