import type { GenerationConfig } from '../config/schema.js';
import { SCHEMA_FILE, schemaJsonText } from '../dataset/dataset-schema.js';
import type { ManifestFile } from '../dataset/manifest.js';
import { fileKey } from '../layout/key-layout.js';
import { writeObject, type DatasetStorage } from '../storage/storage.js';
import { DigestingFileWriter } from './file-digest.js';

/**
 * Writes the dataset's `schema.json` under `prefix` and returns its manifest entry: sized and
 * hashed as written, like every file the manifest lists; not a table, so no columns and 0 rows.
 */
export async function writeSchemaFile(
  storage: DatasetStorage,
  prefix: string,
  config: GenerationConfig,
): Promise<ManifestFile> {
  return writeObject(storage, fileKey(prefix, SCHEMA_FILE), async (writer) => {
    const out = new DigestingFileWriter(writer);
    out.appendText(schemaJsonText(config), 0);
    return { name: SCHEMA_FILE, columns: [], ...(await out.close()) };
  });
}
