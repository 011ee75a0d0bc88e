import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { baselinePredictions } from '../lambda/evaluation/baselines.js';
import { PRIOR_HOURS, PRIOR_SPIKE_SHARE, type BaselineKind } from '../lambda/tasks/baselines.js';
import { openTaskDataset } from '../lambda/evaluation/task-dataset.js';
import { LocalFolderStorage } from '../lambda/storage/local-folder-storage.js';
import { BASELINE_DATASET, truncateDataset, writeHandMadeDataset } from './support/task-dataset.js';

const DAY = '2025-03-01T';
const NEXT = '2025-03-02T';

let root: string;
let dir: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'tierdrift-baselines-'));
  dir = join(root, 'full');
  writeHandMadeDataset(dir, BASELINE_DATASET);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function predict(folder: string, kind: BaselineKind): Promise<Map<string, number>> {
  const storage = new LocalFolderStorage(folder);
  const { window } = await openTaskDataset(storage, '.');
  let text = '';
  for await (const chunk of baselinePredictions(storage, '.', window, kind)) text += chunk;
  const lines = text.split('\r\n');
  expect(lines[0]).toBe('user_id,anchor_time,probability');
  expect(lines.at(-1)).toBe('');
  return new Map(
    lines.slice(1, -1).map((l) => {
      const [user, time, p] = l.trimEnd().split(',');
      return [`${user} ${time}`, Number(p)];
    }),
  );
}

const withinHour = (rate: number) => 1 - Math.exp(-rate);

describe("tier-blind: the user's past 50 GB rate, shrunk toward the population's", () => {
  it("writes a row per task row, in the task file's order", async () => {
    const p = await predict(dir, 'tier-blind');
    expect([...p.keys()]).toEqual(BASELINE_DATASET.tasks.map((r) => r.split(',').slice(0, 2).join(' ')));
  });

  it('user 1 at 12:00: 3 own uploads in 12 h; the population 5 in 4 users × 12 h', async () => {
    const p = await predict(dir, 'tier-blind');
    expect(p.get(`1 ${DAY}12:00:00Z`)).toBeCloseTo(withinHour((3 + PRIOR_HOURS * (5 / 48)) / (12 + PRIOR_HOURS)), 14);
    // User 2 never uploaded 50 GB: only the population's rate speaks for them.
    expect(p.get(`2 ${DAY}12:00:00Z`)).toBeCloseTo(withinHour((PRIOR_HOURS * (5 / 48)) / (12 + PRIOR_HOURS)), 14);
  });
});

describe('tier-aware: the tier in force and the time since the change', () => {
  it('just upgraded (user 3 at 12:00): no upgrade has finished its first hour yet, so the prior spike share, plus the population premium rate', async () => {
    const p = await predict(dir, 'tier-aware');
    // Ordinary premium time by 12:00: users 1 and 4, 24 h, with 5 uploads of 50 GB.
    const ordinary = withinHour((PRIOR_HOURS * (5 / 24)) / PRIOR_HOURS);
    expect(p.get(`3 ${DAY}12:00:00Z`)).toBeCloseTo(1 - (1 - PRIOR_SPIKE_SHARE) * (1 - ordinary), 14);
  });

  it('half an hour after the upgrade, the spike already seen (12:10): the ordinary rate alone', async () => {
    const p = await predict(dir, 'tier-aware');
    // Still no complete hour since the upgrade's first one: the population figures of 12:00.
    expect(p.get(`3 ${DAY}12:30:00Z`)).toBeCloseTo(withinHour((PRIOR_HOURS * (5 / 24)) / (0 + PRIOR_HOURS)), 14);
  });

  it('just downgraded (user 4 at 24:00) and always free (user 2): the population share of free hours with a 50 GB upload, 0 here', async () => {
    const p = await predict(dir, 'tier-aware');
    expect(p.get(`4 ${NEXT}00:00:00Z`)).toBe(0);
    expect(p.get(`2 ${NEXT}12:00:00Z`)).toBe(0);
  });

  it("long premium (user 1 at 36:00): own 5 in 36 h, the population's ordinary premium 10 in 83 h (user 3's spike left out)", async () => {
    const p = await predict(dir, 'tier-aware');
    // Ordinary premium time by 36:00: user 1 36 h, user 4 24 h, user 3 23 h (from 13:00). Its 50 GB
    // uploads: user 1's five, user 4's three, user 3's at 14:00 and 30:00 (not the spike at 12:10).
    expect(p.get(`1 ${NEXT}12:00:00Z`)).toBeCloseTo(withinHour((5 + PRIOR_HOURS * (10 / 83)) / (36 + PRIOR_HOURS)), 14);
  });
});

describe('no look-ahead', () => {
  it.each(['tier-blind', 'tier-aware'] as const)(
    '%s: the dataset cut at an anchor gives the same predictions up to it',
    async (kind) => {
      const full = await predict(dir, kind);
      for (const cut of [`${DAY}12:00:00Z`, `${DAY}12:30:00Z`, `${NEXT}00:00:00Z`]) {
        const folder = join(root, `${kind}-${cut.slice(11, 13)}${cut.slice(14, 16)}-${cut.slice(8, 10)}`);
        truncateDataset(dir, folder, cut);
        const cutPredictions = await predict(folder, kind);
        expect(cutPredictions.size).toBeGreaterThan(0);
        for (const [key, p] of cutPredictions) expect(p, `${key} cut at ${cut}`).toBe(full.get(key));
      }
    },
  );
});
