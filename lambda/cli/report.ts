import type { FileDigest } from '../publish/file-digest.js';
import type { PublishOutcome } from '../publish/publish-dataset.js';
import type { DatasetVerification } from '../publish/verify-dataset.js';
import { withCheckNotes, type Manifest } from '../dataset/manifest.js';
import type { TierSpan } from '../dataset/tier-timeline.js';

/** The human summary `generate` prints. */
export function generateReport(outcome: PublishOutcome, location: string): string {
  const m = withCheckNotes(outcome.manifest);
  const lines = [
    outcome.status === 'created' ? `published ${m.datasetId}` : `${m.datasetId} is already published; not regenerated`,
    `  path:    ${location}`,
    `  engine:  ${m.generator.engine}, seed ${m.config.seed}, ${m.config.users} users, ${m.config.start} .. ${m.config.end}`,
    // Tables only: schema.json is listed with no columns and no rows.
    `  rows:    ${m.files
      .filter((f) => f.columns.length > 0)
      .map((f) => `${f.name.replace('.csv', '')} ${f.rows}`)
      .join(', ')}`,
    `  cohorts: ${Object.entries(m.summary.usersPerCohort)
      .map(([c, n]) => `${c}:${n}`)
      .join(' ')}` + ` (1 premium, 2 free, 3 premium→free, 4 free→premium, 5 free→premium→free)`,
    `  uploads: free 5GB ${m.summary.uploadsByTierAndSize.free['5']}, free 50GB ${m.summary.uploadsByTierAndSize.free['50']}, ` +
      `premium 5GB ${m.summary.uploadsByTierAndSize.premium['5']}, premium 50GB ${m.summary.uploadsByTierAndSize.premium['50']}; ` +
      `${m.summary.upgradesWithSpikeWithinHour}/${m.summary.upgrades} upgrades with a 50GB upload in the first hour`,
    `  checks:  ${m.checks.filter((c) => c.passed).length}/${m.checks.length} passed`,
  ];
  for (const check of m.checks.filter((c) => !c.passed)) {
    lines.push(
      `    FAIL ${check.name}: ${check.violations} violation(s), e.g. ${check.examples.slice(0, 3).join('; ')}`,
    );
    if (check.note) lines.push(`         why: ${check.note}`);
  }
  return lines.join('\n');
}

export function verifyReport(result: DatasetVerification): string {
  if (!result.complete) return `INCOMPLETE: ${result.reason}`;
  const lines = result.files.map((f) =>
    f.status === 'ok'
      ? okLine(f.name, f.expected)
      : f.status === 'missing'
        ? `MISSING   ${f.name}`
        : `MISMATCH  ${f.name}: expected ${f.expected.bytes} bytes sha256 ${f.expected.sha256}, got ${f.actual.bytes} bytes sha256 ${f.actual.sha256}`,
  );
  lines.push(
    result.ok
      ? `${result.manifest.datasetId}: all ${result.files.length} files verified`
      : `${result.manifest.datasetId}: verification FAILED`,
  );
  return lines.join('\n');
}

export function fetchReport(manifest: Manifest, dir: string): string {
  return [
    ...manifest.files.map((f) => okLine(f.name, f)),
    `${manifest.datasetId}: all ${manifest.files.length} files fetched and verified into ${dir}`,
  ].join('\n');
}

function okLine(name: string, digest: FileDigest): string {
  return `ok        ${name} (${digest.bytes} bytes, sha256 ${digest.sha256.slice(0, 12)}…)`;
}

export function timelineReport(userId: number, spans: TierSpan[]): string {
  // An open-ended interval (empty until_datetime) has no length to print.
  const period = (s: TierSpan) =>
    s.until === null
      ? `${s.from} → (still in effect)`
      : `${s.from} → ${s.until}  (${((Date.parse(s.until) - Date.parse(s.from)) / 3_600_000).toFixed(2)} h)`;
  return [`user ${userId}: ${spans.length} period(s)`, ...spans.map((s) => `  ${s.tier.padEnd(8)} ${period(s)}`)].join(
    '\n',
  );
}
