import { parseManifest, type Manifest, type ManifestFile } from '../dataset/manifest.js';
import { OperationError } from '../errors/operation-error.js';
import { fileKey, manifestKey } from '../layout/key-layout.js';
import { REPORT_DATA_FILE, REPORT_FILE } from '../layout/tables.js';
import type { ReportAggregates } from '../rows/report-aggregates.js';
import type { DatasetStorage, StagedWriter } from '../storage/storage.js';
import { ContentDigest, DigestingFileWriter } from './file-digest.js';

/**
 * The renderer, loaded when a report is rendered: Vega and Vega-Lite take about 0.5 s to load,
 * which the commands and routes that render no report need not pay.
 */
const renderer = () => import('../report/report-html.js');

/** The file `report-data.json` holds: the aggregates, which with the manifest re-render the report. */
export interface ReportData {
  aggregates: ReportAggregates;
}

/** The report's files, in manifest order: the aggregates, then the page. */
export const REPORT_FILES = [REPORT_DATA_FILE, REPORT_FILE] as const;

/**
 * Writes the dataset's `report-data.json` and `report.html` through `writers` (one per
 * `REPORT_FILES` entry, committed by the caller with the dataset's other files), from the
 * aggregates gathered while its rows were written and its manifest as it will be (files so far,
 * checks, summary); returns their manifest entries (not tables: no columns, 0 rows).
 */
export async function writeReportFiles(
  writers: readonly StagedWriter[],
  manifest: Omit<Manifest, 'generation'>,
  aggregates: ReportAggregates,
): Promise<ManifestFile[]> {
  const data: ReportData = { aggregates };
  const texts = [`${JSON.stringify(data)}\n`, await (await renderer()).renderReport({ manifest, aggregates })];
  const files: ManifestFile[] = [];
  for (let i = 0; i < REPORT_FILES.length; i++) {
    const out = new DigestingFileWriter(writers[i]);
    await out.appendChunk(Buffer.from(texts[i], 'utf8'), 0);
    files.push({ name: REPORT_FILES[i], columns: [], ...(await out.close()) });
  }
  return files;
}

/**
 * The report of a published dataset, rendered again from its manifest and `report-data.json` (two
 * small reads; the aggregates are checked against the manifest's sha256): the same bytes as its
 * `report.html`, since the renderer is the one that wrote it.
 */
export async function rerenderReport(
  storage: DatasetStorage,
  prefix: string,
): Promise<{ manifest: Manifest; html: string }> {
  const where = storage.describe(prefix);
  const manifestBytes = await storage.read(manifestKey(prefix));
  if (!manifestBytes)
    throw new OperationError(`rendering the report of ${where}: no manifest.json there (not a published dataset)`);
  const manifest = parseManifest(manifestBytes);
  const entry = manifest.files.find((f) => f.name === REPORT_DATA_FILE);
  if (!entry)
    throw new OperationError(
      `rendering the report of ${manifest.datasetId}: its manifest lists no ${REPORT_DATA_FILE} (published before reports existed; generate it again to have one)`,
    );
  const bytes = await storage.read(fileKey(prefix, REPORT_DATA_FILE));
  if (!bytes)
    throw new OperationError(
      `rendering the report of ${manifest.datasetId}: ${storage.describe(fileKey(prefix, REPORT_DATA_FILE))} is missing`,
    );
  const digest = new ContentDigest();
  digest.update(bytes);
  if (digest.digest().sha256 !== entry.sha256)
    throw new OperationError(
      `rendering the report of ${manifest.datasetId}: ${storage.describe(fileKey(prefix, REPORT_DATA_FILE))} does not match its sha256 in the manifest`,
    );
  const { aggregates } = JSON.parse(bytes.toString('utf8')) as ReportData;
  return { manifest, html: await (await renderer()).renderReport({ manifest, aggregates }) };
}
