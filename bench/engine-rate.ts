/**
 * `tsx bench/engine-rate.ts <reference|seedrandom> <users>`: an engine's upload rows per second in
 * this process on one core (the engine alone: no output, no checks), printed as JSON: the best of
 * as many runs as fit in ~2 s (at least 3), after one warm-up run, so that a fast engine's short
 * runs are not judged on three samples of timer and GC noise. The bench runs it in a fresh
 * process per engine, so that neither engine runs on code left optimized for the other.
 */
import { parseConfig } from '../lambda/validation/validate.js';
import { createEngine } from '../lambda/engine/create-engine.js';

const MIN_RUNS = 3;
const BUDGET_SECONDS = 2;

const [engine, users] = process.argv.slice(2);
if ((engine !== 'reference' && engine !== 'seedrandom') || !(Number(users) > 0)) {
  console.error('usage: tsx bench/engine-rate.ts <reference|seedrandom> <users>');
  process.exit(2);
}
const config = parseConfig({ users: Number(users), engine });
let best = { rows: 0, seconds: Number.POSITIVE_INFINITY, runs: 0 };
let spent = 0;
for (let r = 0; r <= MIN_RUNS || spent < BUDGET_SECONDS; r++) {
  const t0 = performance.now();
  let rows = 0;
  for (const batch of createEngine(config)) rows += batch.uploadCount;
  const seconds = (performance.now() - t0) / 1000;
  if (r === 0) continue; // warm-up
  spent += seconds;
  best = seconds < best.seconds ? { rows, seconds, runs: r } : { ...best, runs: r };
}
console.log(JSON.stringify(best));
