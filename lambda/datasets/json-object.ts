import type { DatasetStorage } from '../storage/storage.js';

/** Writes (or replaces) a small JSON object through the storage's staged writer. */
export async function writeJsonObject(storage: DatasetStorage, key: string, value: unknown): Promise<void> {
  const writer = storage.createWriter(key);
  try {
    await writer.write(Buffer.from(`${JSON.stringify(value, null, 2)}\n`));
    await writer.commit();
  } catch (error) {
    await writer.abort();
    throw error;
  }
}

/** A JSON object, or undefined when there is none or it is not valid JSON. */
export async function readJsonObject(storage: DatasetStorage, key: string): Promise<unknown> {
  const bytes = await storage.read(key);
  if (!bytes) return undefined;
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
}
