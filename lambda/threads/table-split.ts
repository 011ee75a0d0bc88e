import type { MessagePort } from 'node:worker_threads';
import type { GenerationConfig } from '../config/schema.js';
import { lastPart, RangeFormatter, RowFormatting } from '../rows/user-rows.js';
import type { UserTableName } from '../rows/user-tables.js';
import { PackedBatches, type PackedBlock } from '../engine/packed-batches.js';
import { createEngine } from '../engine/create-engine.js';
import { blockUsersFor } from '../engine/engine-range.js';
import type { WorkerIo } from './worker-protocol.js';

/**
 * How two threads share a run of an engine that is one random stream (the reference engine),
 * by table: the engine thread generates every user and formats the small tables; its companion
 * formats the others from the users' batches, packed in blocks. Balanced by measurement (1M
 * users): the reference engine costs about what the uploads and task rows cost to format.
 */
export const TABLE_SPLIT = {
  engine: ['users', 'tiers', 'truth_users'],
  companion: ['uploads', 'tasks_upload_50gb_next_hour'],
} as const satisfies Record<'engine' | 'companion', readonly UserTableName[]>;

/** Messages between the two threads: blocks and their end one way, an ack per block formatted the other. */
type EngineMessage = PackedBlock | 'end';

/** Blocks the companion may lag behind. */
const MAX_BLOCKS_IN_FLIGHT = 16;

export async function runEngineThread(
  config: GenerationConfig,
  port: MessagePort,
  io: WorkerIo,
  blockUsers = blockUsersFor(config),
): Promise<void> {
  const store = new PackedBatches();
  let unacked = 0;
  let wake: (() => void) | undefined;
  port.on('message', () => {
    unacked--;
    wake?.();
  });
  // Each block goes as soon as it is packed, so that the companion is never short of work; the
  // thread then waits while the companion lags (this thread's own chunks may be rare or none: the
  // small tables, or no text at all without CSVs).
  const send = async (): Promise<void> => {
    const block = store.pack();
    port.postMessage(block satisfies EngineMessage, block.buffers);
    store.clear();
    unacked++;
    while (unacked >= MAX_BLOCKS_IN_FLIGHT) await new Promise<void>((resolve) => (wake = resolve));
  };
  const formatting = new RowFormatting(config, { chunkMemory: io.chunkMemory, tables: TABLE_SPLIT.engine });
  const formatter = new RangeFormatter(formatting, { from: 1, to: config.users }, 1);
  for (const batch of createEngine(config)) {
    store.add(batch);
    formatter.add(batch);
    while (formatter.full) await io.post({ chunk: formatter.take() });
    if (store.size >= blockUsers) await send();
  }
  if (store.size > 0) await send();
  await io.post(lastPart(formatter));
  port.postMessage('end' satisfies EngineMessage);
}

export async function runCompanionThread(config: GenerationConfig, port: MessagePort, io: WorkerIo): Promise<void> {
  const inbox: EngineMessage[] = [];
  let wake: (() => void) | undefined;
  port.on('message', (message: EngineMessage) => {
    inbox.push(message);
    wake?.();
  });
  const formatting = new RowFormatting(config, { chunkMemory: io.chunkMemory, tables: TABLE_SPLIT.companion });
  const formatter = new RangeFormatter(formatting, { from: 1, to: config.users }, 1);
  const store = new PackedBatches();
  for (;;) {
    let message = inbox.shift();
    while (message === undefined) {
      await new Promise<void>((resolve) => (wake = resolve));
      message = inbox.shift();
    }
    if (message === 'end') break;
    store.load(message);
    for (const batch of store.batches()) {
      formatter.add(batch);
      while (formatter.full) await io.post({ chunk: formatter.take() });
    }
    port.postMessage('ack');
  }
  await io.post(lastPart(formatter));
}
