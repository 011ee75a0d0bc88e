import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { TABLES } from '../../lambda/layout/tables.js';
import type { DatasetStorage } from '../../lambda/storage/storage.js';
import { UPLOAD_50GB_TASK_FILE } from '../../lambda/rows/task-files.js';

/** A hand-made dataset: only what the evaluation reads (the manifest's id, window and file list; tiers, uploads, tasks). */
export interface HandMadeDataset {
  datasetId?: string;
  start: string;
  end: string;
  /** `user_id,from_datetime,until_datetime,tier` rows. */
  tiers: string[];
  /** `user_id,item_id,datetime` rows (txn ids are numbered here). */
  uploads: string[];
  /** `user_id,anchor_time,scenario,tier_at_anchor,hours_in_tier,label,oracle_probability,split` rows. */
  tasks: string[];
}

const csv = (columns: readonly string[], rows: string[]) =>
  [columns.join(','), ...rows].map((r) => `${r}\r\n`).join('');

/** The dataset's files by name, manifest.json included. */
export function handMadeFiles(d: HandMadeDataset): Record<string, string> {
  const files: Record<string, string> = {
    [TABLES.tiers.file]: csv(TABLES.tiers.columns, d.tiers),
    [TABLES.uploads.file]: csv(
      TABLES.uploads.columns,
      d.uploads.map((row, i) => `${i + 1},${row}`),
    ),
    [UPLOAD_50GB_TASK_FILE.file]: csv(UPLOAD_50GB_TASK_FILE.columns, d.tasks),
  };
  const manifest = {
    datasetId: d.datasetId ?? 'seed-1-0000000000000000',
    config: { start: d.start, end: d.end },
    files: Object.keys(files).map((name) => ({ name })),
  };
  return { ...files, 'manifest.json': JSON.stringify(manifest) };
}

/** Writes the dataset into `dir` (the folder that holds manifest.json). */
export function writeHandMadeDataset(dir: string, d: HandMadeDataset): void {
  for (const [name, text] of Object.entries(handMadeFiles(d))) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
}

/** Writes the dataset under `prefix` of a storage, the manifest last. */
export async function putHandMadeDataset(storage: DatasetStorage, prefix: string, d: HandMadeDataset): Promise<void> {
  for (const [name, text] of Object.entries(handMadeFiles(d))) {
    const writer = storage.createWriter(`${prefix}/${name}`);
    await writer.write(Buffer.from(text));
    await writer.commit();
  }
}

const DAY = '2025-03-01T';
const NEXT = '2025-03-02T';
const END = '2025-03-03T00:00:00Z';

/**
 * Four users over two days. 1: premium throughout; 2: free throughout; 3: free, upgraded at
 * 12:00 (a spike upload at 12:10); 4: premium, downgraded at 24:00. The 50 GB uploads are listed;
 * 5 GB uploads are there to be ignored.
 */
export const BASELINE_DATASET: HandMadeDataset = {
  start: `${DAY}00:00:00Z`,
  end: END,
  tiers: [
    `1,${DAY}00:00:00Z,${END},premium`,
    `2,${DAY}00:00:00Z,${END},free`,
    `3,${DAY}00:00:00Z,${DAY}12:00:00Z,free`,
    `3,${DAY}12:00:00Z,${END},premium`,
    `4,${DAY}00:00:00Z,${NEXT}00:00:00Z,premium`,
    `4,${NEXT}00:00:00Z,${END},free`,
  ],
  uploads: [
    `1,2,${DAY}01:30:00Z`,
    `1,1,${DAY}03:00:00Z`,
    `1,2,${DAY}05:00:00Z`,
    `1,2,${DAY}10:00:00Z`,
    `1,2,${DAY}20:00:00Z`,
    `1,2,${NEXT}06:00:00Z`,
    `2,1,${DAY}07:00:00Z`,
    `3,1,${DAY}02:00:00Z`,
    `3,2,${DAY}12:10:00Z`,
    `3,2,${DAY}14:00:00Z`,
    `3,2,${NEXT}06:00:00Z`,
    `4,2,${DAY}02:00:00Z`,
    `4,2,${DAY}08:00:00Z`,
    `4,2,${DAY}16:00:00Z`,
  ],
  // Labels and oracle values are not read by the baselines: all zero here.
  tasks: [
    ...[1, 2, 3, 4].flatMap((u) =>
      [`${DAY}12:00:00Z`, `${NEXT}00:00:00Z`, `${NEXT}12:00:00Z`].map((t) => `${u},${t},free,free,0.0000,0,0,train`),
    ),
    `3,${DAY}12:30:00Z,premium_recent,premium,0.5000,0,0,train`,
  ].sort(),
};

/**
 * Six task rows over every scenario and split, labels and oracle values picked by hand, for
 * scoring tests (tiers and uploads are not read by the evaluation).
 */
export const SCORING_DATASET: HandMadeDataset = {
  start: '2025-03-01T00:00:00Z',
  end: '2025-03-03T00:00:00Z',
  tiers: [],
  uploads: [],
  tasks: [
    '1,2025-03-01T12:00:00Z,premium_long,premium,36.0000,1,0.8,train',
    '1,2025-03-02T00:00:00Z,premium_long,premium,48.0000,0,0.4,val',
    '2,2025-03-01T12:00:00Z,free,free,12.0000,0,0.1,train',
    '2,2025-03-02T00:00:00Z,free,free,24.0000,0,0.35,test',
    '3,2025-03-01T12:00:00Z,just_upgraded,premium,0.0000,1,0.9,train',
    '3,2025-03-01T18:30:00Z,just_downgraded,free,0.0000,0,0.05,test',
  ],
};

/** A predictions file for SCORING_DATASET's rows, in order, with these probabilities. */
export function scoringPredictions(probabilities: readonly (number | string)[] = [0.6, 0.6, 0.2, 0.1, 0.9, 0]): string {
  const rows = SCORING_DATASET.tasks.map((r, i) => `${r.split(',').slice(0, 2).join(',')},${probabilities[i]}`);
  return ['user_id,anchor_time,probability', ...rows].join('\n') + '\n';
}

/** The rows of a CSV file without its header, CRLF removed. */
export function csvRows(path: string): string[] {
  return readFileSync(path, 'utf8').split('\r\n').slice(1, -1);
}

/**
 * A copy of a dataset folder as it looked at `cut` (a UTC timestamp): uploads after it dropped,
 * tier intervals starting after it dropped and the one in force ending at it, task rows after it
 * dropped. A prediction for an anchor at or before `cut` may not change.
 */
export function truncateDataset(from: string, to: string, cut: string): void {
  const rows = (name: string) => csvRows(join(from, name));
  mkdirSync(join(to, 'tasks'), { recursive: true });
  writeFileSync(join(to, 'manifest.json'), readFileSync(join(from, 'manifest.json')));
  const tiers = rows(TABLES.tiers.file)
    .map((r) => r.split(','))
    .filter(([, start]) => start <= cut)
    .map(([user, start, until, tier]) => [user, start, until === '' || until > cut ? cut : until, tier].join(','));
  writeFileSync(join(to, TABLES.tiers.file), csv(TABLES.tiers.columns, tiers));
  writeFileSync(
    join(to, TABLES.uploads.file),
    csv(
      TABLES.uploads.columns,
      rows(TABLES.uploads.file).filter((r) => r.split(',')[3] <= cut),
    ),
  );
  writeFileSync(
    join(to, UPLOAD_50GB_TASK_FILE.file),
    csv(
      UPLOAD_50GB_TASK_FILE.columns,
      rows(UPLOAD_50GB_TASK_FILE.file).filter((r) => r.split(',')[1] <= cut),
    ),
  );
}
