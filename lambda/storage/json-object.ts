import { writeObject, type DatasetStorage } from './storage.js';

/** Writes (or replaces) a small JSON object through the storage's staged writer. */
export async function writeJsonObject(storage: DatasetStorage, key: string, value: unknown): Promise<void> {
  await writeObject(storage, key, (writer) => writer.write(Buffer.from(`${JSON.stringify(value, null, 2)}\n`)));
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
