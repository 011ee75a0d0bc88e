import type { GenerationConfig } from '../config/schema.js';
import { formatRange, RowFormatting } from '../rows/user-rows.js';
import { PackedBatches } from '../engine/packed-batches.js';
import { engineRange } from '../engine/engine-range.js';
import { blockRange, type WorkerData, type WorkerIo } from './worker-protocol.js';

/**
 * A worker's share of a run split by users: blocks index, index + stride, … (see `WorkerData`),
 * posted as chunks through `io`. A block's first txn id depends on the upload counts of all blocks before
 * it, which other workers are generating at the same time. Generating is cheap next to
 * formatting, so each worker generates its blocks into stores well ahead of formatting them and
 * posts their counts at once; it formats its oldest stored block once the counts before it are in.
 * A block is at least one chunk, so a worker formats at most `maxInFlight` blocks ahead of the
 * parent: as many stored blocks keep its counts ahead of where any other worker formats, and
 * nobody waits on a worker that was descheduled mid-block.
 */
export async function runBlocks(
  config: GenerationConfig,
  { blockUsers, index, stride, uploadCounts }: NonNullable<WorkerData['blocks']>,
  io: WorkerIo,
  maxInFlight: number,
): Promise<void> {
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
  const formatting = new RowFormatting(config, { chunkMemory: io.chunkMemory });
  const free = Array.from({ length: maxInFlight }, () => new PackedBatches()); // ~0.5 MiB each when full
  const stored: Array<{ block: number; range: { from: number; to: number }; store: PackedBatches }> = [];
  let block = index;
  for (;;) {
    // Generate ahead while a store is free, then format the oldest block.
    for (let range = blockRange(config.users, blockUsers, block); range;) {
      const store = free.pop();
      if (!store) break;
      store.clear();
      for (const batch of engineRange(config, range)) store.add(batch);
      if (store.uploads > 0x7fffffff)
        throw new Error(`block ${block} has ${store.uploads} uploads, more than a block can count`);
      Atomics.store(counts, block, store.uploads);
      Atomics.notify(counts, block);
      stored.push({ block, range, store });
      block += stride;
      range = blockRange(config.users, blockUsers, block);
    }
    const oldest = stored.shift();
    if (!oldest) return;
    const last = !blockRange(config.users, blockUsers, oldest.block + stride);
    for (const part of formatRange(formatting, oldest.range, txnFrom(oldest.block), oldest.store.batches(), last))
      await io.post(part);
    free.push(oldest.store);
  }
}
