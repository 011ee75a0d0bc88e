import type { DatasetAddress } from '../config/dataset-id.js';
import type { GenerationConfig } from '../config/schema.js';
import type { Cohort } from '../engine/cohorts.js';
import { failedCheckNote } from './check-notes.js';
import { FORMAT_VERSION } from '../layout/format.js';
import { GENERATOR } from './generator-info.js';
import type { CheckResult, IntegritySummary } from '../rows/integrity-checks.js';

export interface ManifestFile {
  name: string;
  columns: string[];
  rows: number;
  bytes: number;
  sha256: string;
}

/** A check's result as the manifest lists it. */
export interface ManifestCheck extends CheckResult {
  /** On a failed check with a known cause (an engine's by-design artifact): what it is and how to avoid it. */
  note?: string;
}

export interface Manifest {
  formatVersion: number;
  generator: { name: string; version: string; engine: GenerationConfig['engine'] };
  datasetId: string;
  configHash: string;
  config: GenerationConfig;
  files: ManifestFile[];
  checks: ManifestCheck[];
  checksPassed: boolean;
  summary: IntegritySummary & { usersPerCohort: Record<`${Cohort}`, number> };
  /** When and how fast this copy was generated; not part of the data, and not in the config hash. */
  generation: { startedAt: string; durationMs: number };
}

/** The manifest of a generated dataset; checksPassed, the checks' notes and the timing are derived here. */
export function buildManifest(parts: {
  config: GenerationConfig;
  address: DatasetAddress;
  files: ManifestFile[];
  checks: CheckResult[];
  summary: Manifest['summary'];
  startedAt: Date;
}): Manifest {
  return {
    formatVersion: FORMAT_VERSION,
    generator: { ...GENERATOR, engine: parts.config.engine },
    datasetId: parts.address.datasetId,
    configHash: parts.address.configHash,
    config: parts.config,
    files: parts.files,
    checks: notedChecks(parts.config.engine, parts.checks),
    checksPassed: parts.checks.every((c) => c.passed),
    summary: parts.summary,
    generation: { startedAt: parts.startedAt.toISOString(), durationMs: Date.now() - parts.startedAt.getTime() },
  };
}

/**
 * The manifest with a note on each failed check of known cause: what readers show, so that a
 * dataset published before notes existed is explained too.
 */
export function withCheckNotes(manifest: Manifest): Manifest {
  return { ...manifest, checks: notedChecks(manifest.generator.engine, manifest.checks) };
}

/** The checks, each failed one of known cause with its note. */
export function notedChecks(engine: GenerationConfig['engine'], checks: ManifestCheck[]): ManifestCheck[] {
  return checks.map((check) => {
    const note = check.note ?? failedCheckNote(engine, check);
    return note ? { ...check, note } : check;
  });
}

export function parseManifest(bytes: Buffer): Manifest {
  const manifest = JSON.parse(bytes.toString('utf8')) as Manifest;
  if (typeof manifest.datasetId !== 'string' || !Array.isArray(manifest.files)) {
    throw new Error('manifest.json is not a tierdrift manifest (no datasetId or files)');
  }
  return manifest;
}
