/**
 * Regenerates docs/report.png, the picture of a report the docs show: a dataset generated from a
 * fixed config, its report.html opened from file:// in headless Chromium (Debian's package, see
 * test/support/chromium.ts), the top of the page at 1280 px wide.
 *
 *   npm run docs:screenshot [-- --out docs/report.png] [-- --width 390]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { REPORT_FILE } from '../lambda/layout/tables.js';
import { publishDataset } from '../lambda/publish/publish-dataset.js';
import { LocalFolderStorage } from '../lambda/storage/local-folder-storage.js';
import { parseConfig } from '../lambda/validation/validate.js';
import { launchChromium } from '../test/support/chromium.js';

const { values } = parseArgs({
  options: {
    out: { type: 'string', default: 'docs/report.png' },
    width: { type: 'string', default: '1280' },
    height: { type: 'string', default: '2000' },
  },
});
const width = Number(values.width);
const height = Number(values.height);

const tmp = mkdtempSync(join(tmpdir(), 'tierdrift-screenshot-'));
const browser = await launchChromium();
try {
  const config = parseConfig({ engine: 'seedrandom', seed: 7, users: 2000 });
  const { prefix } = await publishDataset(config, { storage: new LocalFolderStorage(tmp) });
  const page = await browser.newPage({ viewport: { width, height } });
  await page.goto(pathToFileURL(join(tmp, prefix, REPORT_FILE)).href, { waitUntil: 'load' });
  await page.screenshot({ path: values.out });
  console.log(`wrote ${values.out} (${width}×${height}) from the report of ${prefix}`);
} finally {
  await browser.close();
  rmSync(tmp, { recursive: true, force: true });
}
