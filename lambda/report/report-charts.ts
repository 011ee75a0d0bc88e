import type { TopLevelSpec } from 'vega-lite';
import { SECONDS_PER_HOUR, taskSettings } from '../config/task-settings.js';
import type { Manifest } from '../dataset/manifest.js';
import {
  FIXED_POINT_SCALE,
  PROBABILITY_BINS,
  RATE_EDGES,
  SINCE_CHANGE_GROUPS,
  SINCE_CHANGE_HOURS,
  type ReportAggregates,
  type Tally,
} from '../rows/report-aggregates.js';
import { SCENARIOS } from '../tasks/anchors.js';
import { SPLITS } from '../tasks/split.js';
import { PALETTE, type ChartSpec } from './svg-chart.js';

/** What a report is made of: the dataset's manifest (its `generation` aside) and its aggregates. */
export interface ReportSource {
  manifest: Omit<Manifest, 'generation'>;
  aggregates: ReportAggregates;
}

/** The plot width of the report's charts (wide variant), in px. */
export const WIDTH = 640;
const DAY = 24 * SECONDS_PER_HOUR;
const TIER_COLOURS = { free: PALETTE.skyBlue, premium: PALETTE.vermillion };

export const fromUnits = (units: string): number => Number(BigInt(units)) / FIXED_POINT_SCALE;
export const round = (x: number, digits = 4): number => Number(x.toFixed(digits));
const hoursText = (seconds: number): string => `${round(seconds / SECONDS_PER_HOUR, 2)} h`;

/** A cell of a tally: rows, positives, observed rate and mean oracle probability (null without rows). */
export function cell(
  tally: Tally,
  i: number,
): { rows: number; positives: number; rate: number | null; meanP: number | null } {
  const rows = tally.rows[i];
  return {
    rows,
    positives: tally.positives[i],
    rate: rows > 0 ? tally.positives[i] / rows : null,
    meanP: rows > 0 ? fromUnits(tally.probabilityUnits[i]) / rows : null,
  };
}

const windowOf = (source: ReportSource): { start: number; end: number } => taskSettings(source.manifest.config);

const COHORT_NAMES = ['always premium', 'always free', 'premium → free', 'free → premium', 'free → premium → free'];

function tierTimelines(source: ReportSource): ChartSpec {
  const { start, end } = windowOf(source);
  const { samples, tierChanges } = source.aggregates;
  const lane = (u: { userId: number; cohort: number }) => `cohort ${u.cohort} · user ${u.userId}`;
  const users = samples.flat();
  const intervals = users.flatMap((u) =>
    u.tiers.map(([from, until, premium]) => ({
      user: lane(u),
      from: round((from - start) / DAY),
      until: round((Math.min(until, end) - start) / DAY),
      tier: premium ? 'premium' : 'free',
    })),
  );
  // Each change: where a user's interval begins after the window's start.
  const changes = users.flatMap((u) =>
    u.tiers
      .filter(([from]) => from > start)
      .map(([from, , premium]) => ({
        user: lane(u),
        day: round((from - start) / DAY),
        change: premium ? 'upgrade' : 'downgrade',
      })),
  );
  const minGap = source.manifest.config.minTierGapHours;
  const observed =
    tierChanges.minGapSeconds === null ? 'no user changed tier twice' : hoursText(tierChanges.minGapSeconds);
  const subtitle = [
    `Cohorts: ${COHORT_NAMES.slice(0, 3)
      .map((n, i) => `${i + 1} ${n}`)
      .join(', ')},`,
    `${COHORT_NAMES.slice(3)
      .map((n, i) => `${i + 4} ${n}`)
      .join(', ')}. Triangles: tier changes (up: upgrade, down: downgrade).`,
    `Minimum gap between tier changes: ${minGap} h configured, ${observed} shortest over all users.`,
  ];
  const order = users.map(lane);
  const x = { scale: { domain: [0, round((end - start) / DAY)] }, title: 'days since the window start (d)' };
  const spec: TopLevelSpec = {
    width: WIDTH,
    height: Math.max(120, order.length * 16),
    layer: [
      {
        data: { values: intervals },
        mark: { type: 'bar', height: 11 },
        encoding: {
          y: {
            field: 'user',
            type: 'nominal',
            sort: order,
            title: 'user (first users of each cohort)',
            axis: { labelLimit: 0 },
          },
          x: { field: 'from', type: 'quantitative', ...x },
          x2: { field: 'until' },
          color: {
            field: 'tier',
            type: 'nominal',
            title: 'tier',
            scale: { domain: ['free', 'premium'], range: [TIER_COLOURS.free, TIER_COLOURS.premium] },
          },
        },
      },
      {
        data: { values: changes },
        mark: { type: 'point', filled: true, color: PALETTE.black, size: 60 },
        encoding: {
          y: { field: 'user', type: 'nominal', sort: order },
          x: { field: 'day', type: 'quantitative', ...x },
          shape: {
            field: 'change',
            type: 'nominal',
            title: 'tier change',
            scale: { domain: ['upgrade', 'downgrade'], range: ['triangle-up', 'triangle-down'] },
          },
        },
      },
    ],
  };
  return {
    id: 'tier-timelines',
    title: 'Tier timelines of sample users, by cohort',
    subtitle,
    description:
      `Gantt chart of the tier intervals of the first ${samples[0]?.length ?? 0} users of each of the five cohorts over the window, ` +
      `free in light blue and premium in vermillion, each change marked by a black triangle (up: upgrade, down: downgrade). ` +
      `${tierChanges.upgrades} upgrades and ${tierChanges.downgrades} downgrades in all. ${subtitle[2]}`,
    spec,
  };
}

const SERIES = ['free 5 GB', 'free 50 GB', 'premium 5 GB', 'premium 50 GB'] as const;

function uploadsPerHour(source: ReportSource): ChartSpec {
  const { timeBinSeconds, uploadsOverTime } = source.aggregates;
  const binHours = timeBinSeconds / SECONDS_PER_HOUR;
  const values = [];
  for (let b = 0; b < uploadsOverTime.length / 4; b++)
    for (let s = 0; s < 4; s++)
      values.push({
        day: round((b * timeBinSeconds) / DAY),
        series: SERIES[s],
        rate: round(uploadsOverTime[b * 4 + s] / binHours),
      });
  const totals = SERIES.map(
    (name, s) => `${name}: ${uploadsOverTime.filter((_, i) => i % 4 === s).reduce((a, n) => a + n, 0)}`,
  );
  const spec: TopLevelSpec = {
    width: WIDTH,
    height: 260,
    data: { values },
    mark: { type: 'line', interpolate: 'step-after', strokeWidth: 1.5 },
    encoding: {
      x: { field: 'day', type: 'quantitative', title: 'days since the window start (d)' },
      y: { field: 'rate', type: 'quantitative', title: 'uploads per hour (1/h)' },
      color: {
        field: 'series',
        type: 'nominal',
        title: 'tier and item size',
        scale: { domain: [...SERIES], range: [PALETTE.skyBlue, PALETTE.blue, PALETTE.orange, PALETTE.vermillion] },
      },
      strokeDash: {
        field: 'series',
        type: 'nominal',
        scale: {
          domain: [...SERIES],
          range: [
            [1, 0],
            [6, 3],
            [1, 0],
            [6, 3],
          ],
        },
      },
    },
  };
  return {
    id: 'uploads-per-hour',
    title: 'Uploads per hour over the window, by tier and item size',
    subtitle: [`Each step: the uploads of one ${binHours}-hour bin, per hour. Free 50 GB stays at zero.`],
    description: `Step lines of uploads per hour in ${binHours}-hour bins for free and premium users, 5 GB and 50 GB items. Totals: ${totals.join(', ')}.`,
    spec,
  };
}

const SINCE_CHANGE_COLOURS = [PALETTE.vermillion, PALETTE.blue, PALETTE.orange, PALETTE.green];
const sinceChangeLabel = (k: number): string =>
  k + 1 < SINCE_CHANGE_HOURS.length
    ? `${SINCE_CHANGE_HOURS[k]}–${SINCE_CHANGE_HOURS[k + 1]}`
    : `${SINCE_CHANGE_HOURS[k]}+`;

function largeUploadChance(source: ReportSource): ChartSpec {
  const { sinceChange } = source.aggregates.task;
  const values = [];
  const bins = SINCE_CHANGE_HOURS.length;
  for (let g = 0; g < SINCE_CHANGE_GROUPS.length; g++) {
    for (let k = 0; k < bins; k++) {
      const c = cell(sinceChange, g * bins + k);
      if (c.rate === null || c.meanP === null) continue;
      const base = { group: SINCE_CHANGE_GROUPS[g], hours: sinceChangeLabel(k), rows: c.rows };
      values.push({ ...base, measure: 'observed label rate', value: round(c.rate) });
      values.push({ ...base, measure: 'mean oracle probability', value: round(c.meanP) });
    }
  }
  const first = (g: number) => cell(sinceChange, g * bins);
  const upgraded = first(0);
  const spec: TopLevelSpec = {
    width: WIDTH,
    height: 280,
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: {
        field: 'hours',
        type: 'ordinal',
        sort: SINCE_CHANGE_HOURS.map((_, k) => sinceChangeLabel(k)),
        title: 'hours in the current tier (h, binned)',
      },
      y: {
        field: 'value',
        type: 'quantitative',
        title: 'P(50 GB upload in the next hour)',
        scale: { domain: [0, 1] },
      },
      color: {
        field: 'group',
        type: 'nominal',
        title: 'tier interval',
        scale: { domain: [...SINCE_CHANGE_GROUPS], range: SINCE_CHANGE_COLOURS },
      },
      strokeDash: {
        field: 'measure',
        type: 'nominal',
        title: 'measure',
        scale: {
          domain: ['observed label rate', 'mean oracle probability'],
          range: [
            [1, 0],
            [5, 4],
          ],
        },
        legend: null, // told in the subtitle: solid and dashed
      },
    },
  };
  return {
    id: 'large-upload-chance',
    title: 'Chance of a 50 GB upload in the next hour, by hours since the last tier change',
    subtitle: [
      'Task anchors by how their tier interval began.',
      'Solid: observed label rate; dashed: mean oracle probability.',
    ],
    description:
      'Observed share of task anchors followed by a 50 GB upload within the hour, and the mean oracle probability, ' +
      'by hours since the tier interval began, for anchors after an upgrade, after a downgrade, premium since the start and free since the start. ' +
      (upgraded.rate === null
        ? 'No anchor falls in the first hour after an upgrade.'
        : `In the first hour after an upgrade the observed rate is ${round(upgraded.rate, 3)} over ${upgraded.rows} anchors; `) +
      `free intervals stay at ${[1, 3].map((g) => round(first(g).rate ?? 0, 3)).join(' and ')}.`,
    spec,
  };
}

function uploadRates(source: ReportSource): ChartSpec {
  const { free, premium } = source.aggregates.rates;
  const users = free.reduce((a, n) => a + n, 0);
  const values = [];
  // Bin k >= 1 spans [RATE_EDGES[k-1], RATE_EDGES[k]); bin 0 (below the first edge, rate 0 included) is told in the subtitle.
  const used = [...free.keys()].filter((k) => k > 0 && k < RATE_EDGES.length && (free[k] > 0 || premium[k] > 0));
  const lo = used.length > 0 ? used[0] : 1;
  const hi = used.length > 0 ? used[used.length - 1] : 1;
  for (let k = lo; k <= hi; k++) {
    const rate = Math.sqrt(RATE_EDGES[k - 1] * RATE_EDGES[k]) * 24;
    values.push({ rate: round(rate, 5), tier: 'free rate', users: free[k] });
    values.push({ rate: round(rate, 5), tier: 'premium rate', users: premium[k] });
  }
  const perDay = (edge: number) => String(Number((edge * 24).toPrecision(3)));
  const beyond = `Off the axis: ${free[0]} free and ${premium[0]} premium rates below ${perDay(RATE_EDGES[0])} per day, ${free[RATE_EDGES.length]} and ${premium[RATE_EDGES.length]} at or above ${perDay(RATE_EDGES[RATE_EDGES.length - 1])}`;
  const spec: TopLevelSpec = {
    width: WIDTH,
    height: 240,
    data: { values },
    mark: { type: 'line', interpolate: 'monotone', point: true },
    encoding: {
      x: {
        field: 'rate',
        type: 'quantitative',
        scale: { type: 'log' },
        title: 'latent upload rate (uploads per day, log scale)',
      },
      y: { field: 'users', type: 'quantitative', title: 'users (count)' },
      color: {
        field: 'tier',
        type: 'nominal',
        title: 'rate',
        scale: { domain: ['free rate', 'premium rate'], range: [TIER_COLOURS.free, TIER_COLOURS.premium] },
      },
    },
  };
  return {
    id: 'upload-rates',
    title: 'Per-user upload rates (truth): free against premium',
    subtitle: [`Latent rates of all ${users} users (truth/users.csv), in bins of a tenth of a decade.`, `${beyond}.`],
    description: `Histograms of the users' latent free and premium upload rates, per day, on a log axis. ${beyond}.`,
    spec,
  };
}

function labelRates(source: ReportSource): ChartSpec {
  const { byScenarioSplit } = source.aggregates.task;
  const values = [];
  for (let s = 0; s < SCENARIOS.length; s++)
    for (let p = 0; p < SPLITS.length; p++) {
      const c = cell(byScenarioSplit, s * SPLITS.length + p);
      values.push({ scenario: SCENARIOS[s], split: SPLITS[p], rate: round(c.rate ?? 0), rows: c.rows });
    }
  const spec: TopLevelSpec = {
    width: WIDTH,
    height: 240,
    data: { values },
    mark: 'bar',
    encoding: {
      x: { field: 'scenario', type: 'nominal', sort: [...SCENARIOS], title: 'scenario' },
      xOffset: { field: 'split', type: 'nominal', sort: [...SPLITS] },
      y: { field: 'rate', type: 'quantitative', title: 'label rate (share of rows)', scale: { domain: [0, 1] } },
      color: {
        field: 'split',
        type: 'nominal',
        title: 'split',
        scale: { domain: [...SPLITS], range: [PALETTE.blue, PALETTE.orange, PALETTE.green] },
      },
    },
  };
  return {
    id: 'label-rates',
    title: 'Label rate by scenario and split',
    subtitle: ['Share of task rows labelled 1 (a 50 GB upload within the hour after the anchor).'],
    description: `Grouped bars of the label rate per scenario and split. ${values.map((v) => `${v.scenario} ${v.split}: ${v.rate} of ${v.rows} rows`).join('; ')}.`,
    spec,
  };
}

/** Calibration bins: p = 0 exactly, then tenths. */
export function calibrationBins(
  source: ReportSource,
): Array<{ bin: string; rows: number; positives: number; meanP: number }> {
  const { byProbability } = source.aggregates.task;
  const bins = [];
  for (let d = -1; d < 10; d++) {
    let rows = 0;
    let positives = 0;
    let units = 0n;
    for (let s = 0; s < SPLITS.length; s++) {
      const members = d < 0 ? [0] : Array.from({ length: 10 }, (_, i) => 1 + d * 10 + i);
      for (const b of members) {
        const i = s * PROBABILITY_BINS + b;
        rows += byProbability.rows[i];
        positives += byProbability.positives[i];
        units += BigInt(byProbability.probabilityUnits[i]);
      }
    }
    if (rows === 0) continue;
    bins.push({
      bin: d < 0 ? '0' : `${d / 10}–${(d + 1) / 10}`,
      rows,
      positives,
      meanP: Number(units) / FIXED_POINT_SCALE / rows,
    });
  }
  return bins;
}

function calibration(source: ReportSource): ChartSpec {
  const values = calibrationBins(source).map((b) => ({
    bin: b.bin,
    rows: b.rows,
    meanP: round(b.meanP),
    rate: round(b.positives / b.rows),
  }));
  const spec: TopLevelSpec = {
    width: 400,
    height: 400,
    layer: [
      {
        data: {
          values: [
            { x: 0, y: 0 },
            { x: 1, y: 1 },
          ],
        },
        mark: { type: 'line', color: '#888', strokeDash: [4, 4] },
        encoding: {
          x: {
            field: 'x',
            type: 'quantitative',
            scale: { domain: [0, 1] },
            title: 'mean oracle probability in the bin',
          },
          y: { field: 'y', type: 'quantitative', scale: { domain: [0, 1] }, title: 'observed label rate in the bin' },
        },
      },
      {
        data: { values },
        mark: { type: 'point', filled: true, color: PALETTE.vermillion },
        encoding: {
          x: { field: 'meanP', type: 'quantitative' },
          y: { field: 'rate', type: 'quantitative' },
          size: { field: 'rows', type: 'quantitative', scale: { type: 'sqrt', range: [30, 400] }, title: 'task rows' },
        },
      },
    ],
  };
  return {
    id: 'calibration',
    title: 'Oracle calibration',
    subtitle: ['All task rows, binned by oracle probability (0 exactly, then tenths).'],
    description: `Mean oracle probability against observed label rate per probability bin; points on the dashed diagonal are calibrated. ${values.map((v) => `bin ${v.bin}: ${v.meanP} vs ${v.rate} (${v.rows} rows)`).join('; ')}.`,
    spec,
  };
}

/** The report's charts (see docs/report.md for the question each answers). */
export function reportCharts(source: ReportSource) {
  return {
    timelines: tierTimelines(source),
    uploads: uploadsPerHour(source),
    signal: largeUploadChance(source),
    rates: uploadRates(source),
    labels: labelRates(source),
    calibration: calibration(source),
  } satisfies Record<string, ChartSpec>;
}
