import { parentPort, workerData } from 'node:worker_threads';
import { ParquetTables } from '../dataset/parquet-table.js';
import type { ParquetFromWorker, ParquetToWorker, ParquetWorkerData } from './parquet-thread.js';

/**
 * Worker thread: encodes a run's Parquet parts from the users' batches its parent sends, and sends
 * the parts' bytes back for the parent to write (storage lives there). A thread of its own, so
 * that its young generation is capped (see parquet-thread.ts) and the parent keeps hashing and writing.
 */
if (!parentPort) throw new Error('parquet-worker.ts runs as a worker thread');
const port = parentPort;
const { config, users } = workerData as ParquetWorkerData;
const post = (message: ParquetFromWorker, transfer: ArrayBuffer[] = []): void => {
  port.postMessage(message, transfer);
};
const tables = new ParquetTables(config, users, (table, part) => ({
  write: (bytes) => {
    post({ type: 'write', table: table.name, part, bytes }, [bytes.buffer as ArrayBuffer]);
    return Promise.resolve();
  },
  close: (rows) => {
    post({ type: 'close', table: table.name, part, rows });
    return Promise.resolve();
  },
}));

// Messages are handled one at a time, in order.
let queue = Promise.resolve();
port.on('message', (message: ParquetToWorker) => {
  queue = queue
    .then(async () => {
      if (message.type === 'users') {
        await tables.append(message.users);
        post({ type: 'ack' });
      } else {
        await tables.finish();
        post({ type: 'done' });
      }
    })
    .catch((error: unknown) => {
      post({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    });
});
