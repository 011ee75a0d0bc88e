/** Messages from an engine worker to its parent; the parent answers each chunk with an ack. */
export type EngineMessage =
  | { type: 'chunk'; data: Float64Array }
  | { type: 'done' }
  | { type: 'error'; message: string };

/** ~1 MiB of packed batches per message. */
export const CHUNK_DOUBLES = 1 << 17;
/** Chunks the worker may run ahead of the consumer (bounds memory). */
export const MAX_CHUNKS_IN_FLIGHT = 4;
