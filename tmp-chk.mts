import { rerenderReport } from './lambda/publish/report-files.js';
import { LocalFolderStorage } from './lambda/storage/local-folder-storage.js';
const { html } = await rerenderReport(new LocalFolderStorage(process.argv[2]), '.');
for (const m of html.matchAll(/<figure id="([^"]+)"/g)) {
  const i = m.index; const j = html.indexOf('</figure>', i);
  const fig = html.slice(i, j);
  console.log(m[1], fig.length, (fig.match(/role-legend"/g) ?? []).length, (fig.match(/role-legend/g) ?? []).length);
}
