/**
 * `tsx bench/engine-rate.ts <reference|seedrandom> <users> [repeats]`: an engine's upload rows per
 * second in this process on one core (the engine alone: no output, no checks), the best of
 * `repeats` runs after one warm-up, printed as JSON. The bench runs it in a fresh process per
 * engine, so that neither engine runs on code the other one's run left optimized for itself.
 */
import { parseConfig } from '../lambda/config/validate.js';
import { createEngine } from '../lambda/engine/create-engine.js';

const [engine, users, repeats = '3'] = process.argv.slice(2);
if ((engine !== 'reference' && engine !== 'seedrandom') || !(Number(users) > 0)) {
  console.error('usage: tsx bench/engine-rate.ts <reference|seedrandom> <users> [repeats]');
  process.exit(2);
}
const config = parseConfig({ users: Number(users), engine });
let best = { rows: 0, seconds: Number.POSITIVE_INFINITY };
for (let r = 0; r <= Number(repeats); r++) {
  const t0 = performance.now();
  let rows = 0;
  for (const batch of createEngine(config)) rows += batch.uploadCount;
  const seconds = (performance.now() - t0) / 1000;
  if (r > 0 && seconds < best.seconds) best = { rows, seconds };
}
console.log(JSON.stringify(best));
