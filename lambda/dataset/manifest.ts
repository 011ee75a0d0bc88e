import type { GenerationConfig } from '../config/schema.js';
import type { Cohort } from '../engine/cohorts.js';
import type { CheckResult, IntegritySummary } from './integrity-checks.js';

export interface ManifestFile {
  name: string;
  columns: string[];
  rows: number;
  bytes: number;
  sha256: string;
}

export interface Manifest {
  formatVersion: number;
  generator: { name: string; version: string; engine: GenerationConfig['engine'] };
  datasetId: string;
  configHash: string;
  config: GenerationConfig;
  files: ManifestFile[];
  checks: CheckResult[];
  checksPassed: boolean;
  summary: IntegritySummary & { usersPerCohort: Record<`${Cohort}`, number> };
  /** When and how fast this copy was generated; not part of the data, and not in the config hash. */
  generation: { startedAt: string; durationMs: number };
}

export function parseManifest(bytes: Buffer): Manifest {
  const manifest = JSON.parse(bytes.toString('utf8')) as Manifest;
  if (typeof manifest.datasetId !== 'string' || !Array.isArray(manifest.files)) {
    throw new Error('manifest.json is not a tierdrift manifest (no datasetId or files)');
  }
  return manifest;
}
