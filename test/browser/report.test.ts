import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatasetDescription } from '../../lambda/catalog/describe-dataset.js';
import { startDevStack, type DevStack } from '../../lambda/dev/dev-server.js';
import { REPORT_FILE } from '../../lambda/layout/tables.js';
import { publishDataset } from '../../lambda/publish/publish-dataset.js';
import { LocalFolderStorage } from '../../lambda/storage/local-folder-storage.js';
import { parseConfig } from '../../lambda/validation/validate.js';
import { launchChromium } from '../support/chromium.js';

/** Where the screenshots go (kept after the run, for a person to look at). */
const SHOTS = join(process.cwd(), 'test-output', 'browser');
const CHARTS = [
  'tier-timelines',
  'uploads-per-hour',
  'large-upload-chance',
  'upload-rates',
  'label-rates',
  'calibration',
  'baseline-scores',
];

const tmp = mkdtempSync(join(tmpdir(), 'tierdrift-browser-'));
let browser: Browser;
let reportUrl: string;

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  browser = await launchChromium();
  const { prefix } = await publishDataset(parseConfig({ engine: 'seedrandom', seed: 3, users: 800 }), {
    storage: new LocalFolderStorage(tmp),
  });
  reportUrl = pathToFileURL(join(tmp, prefix, REPORT_FILE)).href;
});
afterAll(async () => {
  await browser.close();
  rmSync(tmp, { recursive: true, force: true });
});

/** Opens `url` in a fresh page that records console errors and every request, and lets none but `url` through. */
async function open(url: string, viewport: { width: number; height: number }) {
  const page = await browser.newPage({ viewport });
  const errors: string[] = [];
  const requests: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('request', (r) => requests.push(r.url()));
  await page.route('**/*', (route) => (route.request().url() === url ? route.continue() : route.abort()));
  await page.goto(url, { waitUntil: 'load' });
  return { page, errors, requests };
}

/**
 * Per chart, in the rendering the page shows at this width (a wide and a narrow one, by media
 * query): its <title>, <desc>, and how many of its marks are drawn with a visible size.
 */
async function charts(page: Page) {
  return page.$$eval('figure.chart', (figures) =>
    figures.map((f) => {
      const shown = [...f.querySelectorAll('svg')].filter((s) => s.getBoundingClientRect().width > 0);
      const svg = shown.length === 1 ? shown[0] : null;
      const marks = svg ? [...svg.querySelectorAll('g[class*="role-mark"] path, g[class*="role-mark"] line')] : [];
      const drawn = marks.filter((m) => {
        const box = (m as SVGGraphicsElement).getBBox();
        return box.width > 0 || box.height > 0;
      });
      return {
        id: f.id,
        title: svg?.querySelector(':scope > title')?.textContent ?? null,
        desc: svg?.querySelector(':scope > desc')?.textContent ?? null,
        viewBox: svg?.getAttribute('viewBox') ?? null,
        drawn: drawn.length,
        width: svg?.getBoundingClientRect().width ?? 0,
      };
    }),
  );
}

describe('report.html in Chromium', () => {
  it('from file:// at 1280×800: every chart drawn, titled and described; no console error, no request but the page', async () => {
    const { page, errors, requests } = await open(reportUrl, { width: 1280, height: 800 });
    const found = await charts(page);
    expect(found.map((c) => c.id)).toEqual(CHARTS);
    for (const chart of found) {
      expect(chart.title, chart.id).toBeTruthy();
      expect(chart.desc, chart.id).toBeTruthy();
      expect(chart.viewBox, chart.id).toMatch(/^0 0 \d+ \d+$/);
      expect(chart.drawn, `${chart.id}: marks drawn`).toBeGreaterThan(0);
    }
    // The tables: every integrity check, and the config with the dataset id.
    expect(await page.locator('#checks tbody tr').count()).toBeGreaterThanOrEqual(11);
    expect(await page.textContent('header')).toMatch(/seed-3-[0-9a-f]{16}/);
    await page.screenshot({ path: join(SHOTS, 'report-1280x800.png') });
    expect(errors).toEqual([]);
    expect(requests).toEqual([reportUrl]);
    await page.close();
  });

  it('at phone width (390×844): nothing overflows, every chart fits the screen', async () => {
    const { page, errors, requests } = await open(reportUrl, { width: 390, height: 844 });
    const { scrollWidth, clientWidth } = await page.evaluate(() => ({
      scrollWidth: document.documentElement.scrollWidth,
      clientWidth: document.documentElement.clientWidth,
    }));
    expect(scrollWidth).toBeLessThanOrEqual(clientWidth);
    for (const chart of await charts(page)) {
      expect(chart.width, chart.id).toBeGreaterThan(0);
      expect(chart.width, chart.id).toBeLessThanOrEqual(390);
      expect(chart.drawn, chart.id).toBeGreaterThan(0);
    }
    await page.screenshot({ path: join(SHOTS, 'report-390x844.png') });
    expect(errors).toEqual([]);
    expect(requests).toEqual([reportUrl]);
    await page.close();
  });
});

describe('report.html through the API (npm run dev)', () => {
  let stack: DevStack;
  beforeAll(async () => {
    process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
    stack = await startDevStack(0);
  });
  afterAll(() => stack.stop());

  it('POST /datasets answers its presigned URL, which serves it as HTML that renders the same', async () => {
    const response = await fetch(`${stack.url}/datasets`, { method: 'POST', body: '{"seed":12,"users":60}' });
    expect(response.status).toBe(201);
    const body = (await response.json()) as DatasetDescription;
    const url = body.files.find((f) => f.name === REPORT_FILE)!.url;
    const { page, errors, requests } = await open(url, { width: 1280, height: 800 });
    expect((await charts(page)).map((c) => [c.id, c.drawn > 0])).toEqual(CHARTS.map((id) => [id, true]));
    expect(errors).toEqual([]);
    expect(requests).toEqual([url]);
    await page.close();
  });
});
