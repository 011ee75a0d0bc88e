import { REPORT_DATA_FILE, REPORT_FILE } from '../layout/tables.js';
import { SCHEMA_FILE } from '../dataset/dataset-schema.js';
import { reportCharts, type ReportSource } from './report-charts.js';
import { reportScores } from './report-scores.js';
import { baselineChart, baselineScores, type BaselineScores } from './report-baselines.js';
import { renderSvg, type ChartSpec } from './svg-chart.js';

/** A report is bounded whatever the dataset's size (fixed bins, a fixed sample); this is the promise. */
export const MAX_REPORT_BYTES = 1_000_000;

const escapeHtml = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Thousands grouped with commas, the same on every machine (no locale). */
const count = (n: number): string => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
const decimal = (x: number | null, digits = 4): string => (x === null ? '—' : x.toFixed(digits));

const STYLE = `
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#1a1a1a;background:#fafafa}
main{max-width:1100px;margin:0 auto;padding:16px}
h1{font-size:1.6rem;margin:.5rem 0}
h2{font-size:1.25rem;margin:2rem 0 .5rem;border-bottom:1px solid #ddd}
code,.id{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.9em;overflow-wrap:break-word}
figure{margin:1rem 0;padding:8px;background:#fff;border:1px solid #e3e3e3;border-radius:4px}
figure svg{display:block;height:auto;margin:0 auto}
figure h3{font-size:1.05rem;margin:.25rem 0}
.subtitle{font-size:.9rem;color:#333;margin:0 0 .5rem}
.narrow{display:none}
@media (max-width:640px){.wide{display:none}.narrow{display:block}main{padding:8px}figure{padding:4px}}
figcaption{font-size:.95rem;color:#333;margin-top:.25rem}
.table{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;font-size:.9rem;background:#fff;margin:.5rem 0}
th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top;overflow-wrap:break-word}
.id{word-break:break-all}
td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.pass{color:#006b4f;font-weight:600}.fail{color:#b3261e;font-weight:600}
pre{white-space:pre-wrap;overflow-wrap:anywhere;background:#fff;border:1px solid #e3e3e3;padding:8px;font-size:.85rem}
nav ol{padding-left:1.25rem}
`;

const table = (head: string[], rows: string[][], numeric: number[] = []): string =>
  `<div class="table"><table><thead><tr>${head.map((h) => `<th scope="col">${h}</th>`).join('')}</tr></thead><tbody>` +
  rows
    .map(
      (r) =>
        `<tr>${r.map((c, i) => (numeric.includes(i) ? `<td class="n">${c}</td>` : `<td>${c}</td>`)).join('')}</tr>`,
    )
    .join('') +
  '</tbody></table></div>';

/** A chart with its title and subtitle as HTML, rendered twice: for wide screens and for phones. */
async function figure(chart: ChartSpec, caption: string): Promise<string> {
  return (
    `<figure id="${chart.id}" class="chart"><h3>${escapeHtml(chart.title)}</h3>` +
    `<p class="subtitle">${chart.subtitle.map(escapeHtml).join('<br>')}</p>` +
    `<div class="wide">${await renderSvg(chart, 'wide')}</div><div class="narrow">${await renderSvg(chart, 'narrow')}</div>` +
    `<figcaption>${caption}</figcaption></figure>`
  );
}

/** The baselines beside the oracle, on the sample of users the report keeps for them. */
async function baselineSection(baselines: BaselineScores | null): Promise<string> {
  if (!baselines) return '<h3>Baselines</h3><p>No task file, so no baselines to score.</p>';
  const thinned = baselines.rowStride > 1 ? `, every ${baselines.rowStride}th task row of each` : '';
  const cut = baselines.cut ? ' The sample reached its size bound and was cut there in user order.' : '';
  return (
    `<h3>Baselines against the oracle, on a sample</h3>` +
    `<p>The two baselines (<code>tierdrift baseline --kind tier-blind</code> and <code>--kind tier-aware</code>) are scored here on a sample of ` +
    `${count(baselines.users)} users${thinned} (${count(baselines.rows)} task rows), and the oracle on the same rows: ` +
    `each baseline prediction reads the whole population's past hours up to its anchor, gathered over every user while the rows were written, ` +
    `and the user's own history, kept for the sampled users only (a fixed share of users chosen by a hash of the seed and the user id).${cut} ` +
    `<code>tierdrift evaluate</code> scores them on every row.</p>` +
    (await figure(
      baselineChart(baselines),
      'The oracle is the best any model can do; tier-aware should beat tier-blind, most of all right after upgrades.',
    )) +
    table(
      ['predictor', 'split', 'rows', 'positives', 'Brier', 'log loss', 'ROC-AUC', 'average precision'],
      baselines.scores.map((r) => [
        r.predictor,
        r.split,
        count(r.rows),
        count(r.positives),
        decimal(r.metrics.brier),
        decimal(r.metrics.logLoss),
        decimal(r.metrics.rocAuc),
        decimal(r.metrics.averagePrecision),
      ]),
      [2, 3, 4, 5, 6, 7],
    )
  );
}

/**
 * The dataset's report as one HTML page: charts as inline SVG, tables, no script, no external
 * resource. Same source, same bytes (no clock, no locale, ids numbered per chart).
 */
export async function renderReport(source: ReportSource): Promise<string> {
  const { manifest } = source;
  const charts = reportCharts(source);
  const scores = reportScores(source);
  const baselines = baselineScores(source);
  const s = manifest.summary;
  const passed = manifest.checks.filter((c) => c.passed).length;
  // The tables; the other files (schema.json, the report's) are named below the table.
  const files = manifest.files.filter((f) => f.columns.length > 0);

  const sections = [
    `<section id="timelines"><h2>1. Do the tiers change as the cohorts say?</h2>${await figure(
      charts.timelines,
      'Each row is one user; colour is the tier in force. The subtitle gives the configured minimum gap between two tier changes of a user and the shortest gap in the whole dataset.',
    )}</section>`,
    `<section id="uploads"><h2>2. How many uploads, when, of what size?</h2>${await figure(
      charts.uploads,
      'Free users never upload 50 GB items: that line stays at zero.',
    )}</section>`,
    `<section id="signal"><h2>3. Is there a spike after an upgrade, and zero while free?</h2>${await figure(
      charts.signal,
      'The signal the dataset exists for: right after an upgrade the chance of a 50 GB upload in the next hour jumps, then settles at the premium rate; while free it is zero.',
    )}</section>`,
    `<section id="rates"><h2>4. How active are users, free against premium?</h2>${await figure(
      charts.rates,
      'The latent rates the engine drew for each user (truth/users.csv): every user has both, used while in that tier.',
    )}</section>`,
    `<section id="task"><h2>5. The task: labels, the oracle, scores</h2>${await figure(
      charts.labels,
      'tasks/upload_50gb_next_hour.csv: the share of rows labelled 1 per scenario and split.',
    )}${await figure(
      charts.calibration,
      'The oracle knows the generator: its probabilities should match the observed label rates.',
    )}<h3>Scores</h3>${table(
      ['predictor', 'split', 'rows', 'positives', 'Brier', 'log loss', 'ROC-AUC', 'average precision'],
      scores.map((r) => [
        escapeHtml(r.predictor),
        r.split,
        count(r.rows),
        count(r.positives),
        decimal(r.brier),
        decimal(r.logLoss),
        decimal(r.rocAuc),
        decimal(r.averagePrecision),
      ]),
      [2, 3, 4, 5, 6, 7],
    )}<p>Brier and log loss are exact (sums over every row as written). ROC-AUC and average precision come from the oracle's probabilities in bins of 0.01 (rows in one bin count as tied). The constant reference predicts the train split's label rate for every row.</p>${await baselineSection(baselines)}</section>`,
    `<section id="checks"><h2>6. Checks and config</h2><p>${passed} of ${manifest.checks.length} integrity checks passed.</p>${table(
      ['check', 'rule', 'result', 'violations', 'examples'],
      manifest.checks.map((c) => [
        `<code>${escapeHtml(c.name)}</code>`,
        escapeHtml(c.description) + (c.note ? `<br><em>${escapeHtml(c.note)}</em>` : ''),
        c.passed ? '<span class="pass">passed</span>' : '<span class="fail">FAILED</span>',
        count(c.violations),
        c.examples.slice(0, 3).map(escapeHtml).join('<br>'),
      ]),
      [3],
    )}<h3>Summary</h3>${table(
      ['figure', 'value'],
      [
        [
          'users per cohort (1 premium, 2 free, 3 premium→free, 4 free→premium, 5 free→premium→free)',
          Object.entries(s.usersPerCohort)
            .map(([c, n]) => `${c}: ${count(n)}`)
            .join(', '),
        ],
        [
          'uploads while free: 5 GB, 50 GB',
          `${count(s.uploadsByTierAndSize.free['5'])}, ${count(s.uploadsByTierAndSize.free['50'])}`,
        ],
        [
          'uploads while premium: 5 GB, 50 GB',
          `${count(s.uploadsByTierAndSize.premium['5'])}, ${count(s.uploadsByTierAndSize.premium['50'])}`,
        ],
        [
          'upgrades with a 50 GB upload in their first hour',
          `${count(s.upgradesWithSpikeWithinHour)} of ${count(s.upgrades)}`,
        ],
      ],
    )}<h3>Files</h3>${table(
      ['file', 'rows', 'bytes', 'sha256'],
      files.map((f) => [
        `<code>${escapeHtml(f.name)}</code>`,
        count(f.rows),
        count(f.bytes),
        `<span class="id">${f.sha256}</span>`,
      ]),
      [1, 2],
    )}<p>Also in the dataset: <code>${SCHEMA_FILE}</code> (tables, keys, links, the task), <code>${REPORT_FILE}</code> (this page), <code>${REPORT_DATA_FILE}</code> (the aggregates it is drawn from) and <code>manifest.json</code>, written last.</p><h3>Config</h3><pre>${escapeHtml(
      JSON.stringify(manifest.config, null, 2),
    )}</pre></section>`,
  ];

  const html =
    `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">` +
    `<meta name="viewport" content="width=device-width, initial-scale=1">` +
    `<title>tierdrift dataset ${escapeHtml(manifest.datasetId)}</title><style>${STYLE}</style></head>` +
    `<body><main><header><h1>tierdrift dataset report</h1>` +
    `<p>Dataset <span class="id">${escapeHtml(manifest.datasetId)}</span> · config hash <span class="id">${manifest.configHash}</span> · ` +
    `${escapeHtml(manifest.generator.name)} ${escapeHtml(manifest.generator.version)}, ${manifest.generator.engine} engine, format ${manifest.formatVersion} · ` +
    `${count(manifest.config.users)} users, seed ${manifest.config.seed}, ${escapeHtml(manifest.config.start)} to ${escapeHtml(manifest.config.end)}</p>` +
    `<nav aria-label="sections"><ol><li><a href="#timelines">Tier timelines</a></li><li><a href="#uploads">Uploads per hour</a></li>` +
    `<li><a href="#signal">50 GB uploads after a tier change</a></li><li><a href="#rates">Upload rates</a></li>` +
    `<li><a href="#task">The task</a></li><li><a href="#checks">Checks and config</a></li></ol></nav></header>` +
    `${sections.join('\n')}</main></body></html>\n`;
  const bytes = Buffer.byteLength(html);
  if (bytes > MAX_REPORT_BYTES)
    throw new Error(`${REPORT_FILE} came to ${bytes} bytes, over its ${MAX_REPORT_BYTES}-byte bound`);
  return html;
}
