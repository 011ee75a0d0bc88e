import { Worker } from 'node:worker_threads';
import type { GenerationConfig } from '../config/schema.js';
import type { UserBlock } from '../rows/user-rows.js';

export interface ParquetWorkerData {
  config: GenerationConfig;
  users: { from: number; to: number };
}

export type ParquetToWorker = { type: 'users'; users: UserBlock } | { type: 'finish' };

export type ParquetFromWorker =
  | { type: 'write'; table: string; part: number; bytes: Uint8Array }
  | { type: 'close'; table: string; part: number; rows: number }
  | { type: 'ack' }
  | { type: 'done' }
  | { type: 'error'; message: string };

/** What the parent does with a part's bytes: in order, one message at a time. */
export interface PartEvents {
  write(table: string, part: number, bytes: Uint8Array): Promise<void>;
  close(table: string, part: number, rows: number): Promise<void>;
}

/**
 * The worker's heap, capped, so that V8 does not let it grow to its defaults (tens of MB a
 * generation) on a machine where every MB counts against the peak: what stays alive is one row
 * group's columns a table (typed arrays, ~7 MB in all) and the blocks in flight.
 */
const YOUNG_GENERATION_MB = 8;
const OLD_GENERATION_MB = 32;
/** Blocks of batches sent ahead of the worker (each about 1 MB). */
const MAX_IN_FLIGHT = 4;

/**
 * The Parquet encoding of a run on a worker thread (`parquet-worker.ts`, bundled beside the engine
 * worker): the parent sends the users' batches (transferred) and gets the parts' bytes back to
 * write. Same bytes as in this thread.
 */
export class ParquetThread {
  private readonly worker: Worker;
  private inFlight = 0;
  private wake: (() => void) | undefined;
  private handling: Promise<void> = Promise.resolve();
  private failure: Error | undefined;
  private finished: { resolve: () => void; reject: (error: Error) => void } | undefined;

  constructor(url: URL, data: ParquetWorkerData, events: PartEvents) {
    this.worker = new Worker(url, {
      workerData: data,
      resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB, maxOldGenerationSizeMb: OLD_GENERATION_MB },
    });
    this.worker.on('message', (message: ParquetFromWorker) => {
      if (message.type === 'ack') {
        this.inFlight--;
        this.wake?.();
      } else if (message.type === 'error') this.fail(new Error(`Parquet worker failed: ${message.message}`));
      else
        this.handling = this.handling
          .then(async () => {
            if (message.type === 'write') await events.write(message.table, message.part, message.bytes);
            else if (message.type === 'close') await events.close(message.table, message.part, message.rows);
            else this.finished?.resolve();
          })
          .catch((error: unknown) => {
            this.fail(error instanceof Error ? error : new Error(String(error)));
          });
    });
    this.worker.on('error', (error: Error) => {
      this.fail(error);
    });
    this.worker.on('exit', (code) => {
      this.fail(new Error(`Parquet worker exited with code ${code} before finishing`));
    });
  }

  /** Sends the next users' batches (transferred); waits while the worker is `MAX_IN_FLIGHT` blocks behind. */
  async append(users: UserBlock): Promise<void> {
    while (this.inFlight >= MAX_IN_FLIGHT && !this.failure) await new Promise<void>((resolve) => (this.wake = resolve));
    if (this.failure) throw this.failure;
    this.inFlight++;
    this.worker.postMessage({ type: 'users', users } satisfies ParquetToWorker, users.block.buffers);
  }

  /** Ends every part; resolves once the parent has handled every part's bytes. */
  async finish(): Promise<void> {
    if (this.failure) throw this.failure;
    const done = new Promise<void>((resolve, reject) => (this.finished = { resolve, reject }));
    this.worker.postMessage({ type: 'finish' } satisfies ParquetToWorker);
    try {
      await done;
      await this.handling;
    } finally {
      await this.stop();
    }
  }

  async stop(): Promise<void> {
    this.worker.removeAllListeners('exit');
    await this.worker.terminate();
  }

  private fail(error: Error): void {
    this.failure ??= error;
    this.wake?.();
    this.finished?.reject(this.failure);
  }
}
