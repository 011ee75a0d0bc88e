import type { Manifest } from '../dataset/manifest.js';
import { MANIFEST_FILE } from '../layout/tables.js';
import { manifestKey } from '../layout/key-layout.js';
import { readManifest } from '../publish/publish-dataset.js';
import type { DatasetStorage } from '../storage/storage.js';
import { UPLOAD_50GB_TASK_FILE } from '../rows/task-files.js';
import { utcTimestampSeconds } from '../time/utc-timestamp.js';
import { DatasetFileError, requireCsv } from '../dataset/dataset-csv.js';
import type { Window } from '../tasks/user-history.js';

/** A published dataset with a task file: its id and window. */
export interface TaskDataset {
  datasetId: string;
  window: Window;
}

/** Reads the manifest under `prefix`; throws DatasetFileError when there is none or it lists no task file. */
export async function openTaskDataset(storage: DatasetStorage, prefix: string): Promise<TaskDataset> {
  const manifest = await readManifest(storage, manifestKey(prefix));
  if (!manifest)
    throw new DatasetFileError(`no ${MANIFEST_FILE} at ${storage.describe(prefix)}: not a published dataset`);
  return taskDatasetOf(manifest);
}

/** The task dataset a manifest describes; throws DatasetFileError when it lists no task file or no CSV. */
export function taskDatasetOf(manifest: Manifest): TaskDataset {
  requireCsv(manifest, 'evaluation');
  if (!manifest.files.some((f) => f.name === UPLOAD_50GB_TASK_FILE.file)) {
    // Older manifests have no tasks.enabled (or no tasks): only an explicit false means "generated without tasks".
    const tasks = manifest.config.tasks as Partial<Manifest['config']['tasks']> | undefined;
    if (tasks?.enabled === false) {
      throw new DatasetFileError(
        `${manifest.datasetId} has no task to score or predict: it was generated with tasks.enabled false (no ${UPLOAD_50GB_TASK_FILE.file}); generate it with tasks enabled`,
      );
    }
    throw new DatasetFileError(
      `${manifest.datasetId} has no ${UPLOAD_50GB_TASK_FILE.file} (published by a version without tasks): generate it again`,
    );
  }
  return {
    datasetId: manifest.datasetId,
    window: { start: utcTimestampSeconds(manifest.config.start), end: utcTimestampSeconds(manifest.config.end) },
  };
}
