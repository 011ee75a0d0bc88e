import { describe, expect, it } from 'vitest';
import { IntegrityChecker, type CheckResult, type IntegrityContext } from '../lambda/rows/integrity-checks.js';
import { utcTimestampSeconds } from '../lambda/time/utc-timestamp.js';

const S = utcTimestampSeconds('2025-03-01T00:00:00Z');
const E = utcTimestampSeconds('2025-03-11T00:00:00Z');
const H = 3600;
const D = 86400;
const CTX: IntegrityContext = { start: S, end: E, minGapUs: 24 * 3_600_000_000, users: 4 };

interface Tier {
  user: number;
  from: number;
  until: number;
  tier: string;
}
interface Upload {
  txn: number;
  user: number;
  item: number;
  at: number;
}
interface Rows {
  users: number[];
  items: [number, number][];
  tiers: Tier[];
  uploads: Upload[];
}

/**
 * A clean dataset in the shape the engine writes:
 * user 1 always premium, 2 always free, 3 free→premium (upgrade with a 50 GB spike 10 s after),
 * 4 free→premium→free (upgrade without a spike in the first hour).
 */
function clean(): Rows {
  return {
    users: [1, 2, 3, 4],
    items: [
      [1, 5],
      [2, 50],
    ],
    tiers: [
      { user: 1, from: S, until: E, tier: 'premium' },
      { user: 2, from: S, until: E, tier: 'free' },
      { user: 3, from: S, until: S + 3 * D, tier: 'free' },
      { user: 3, from: S + 3 * D, until: E, tier: 'premium' },
      { user: 4, from: S, until: S + 2 * D, tier: 'free' },
      { user: 4, from: S + 2 * D, until: S + 5 * D, tier: 'premium' },
      { user: 4, from: S + 5 * D, until: E, tier: 'free' },
    ],
    uploads: [
      { txn: 1, user: 1, item: 2, at: S + 100 },
      { txn: 2, user: 1, item: 1, at: S + 200 },
      { txn: 3, user: 2, item: 1, at: S + 300 },
      { txn: 4, user: 3, item: 1, at: S + D },
      { txn: 5, user: 3, item: 2, at: S + 3 * D + 10 },
      { txn: 6, user: 4, item: 2, at: S + 2 * D + H + 400 },
      { txn: 7, user: 4, item: 1, at: E - 1 },
    ],
  };
}

/** Feeds rows as publishDataset does: items first, then per user (ascending) its users row(s), tiers, uploads. */
function run(rows: Rows, ctx: IntegrityContext = CTX) {
  const checker = new IntegrityChecker(ctx);
  for (const [id, size] of rows.items) checker.addItem(id, size);
  const ids = [...new Set([...rows.users, ...rows.tiers.map((t) => t.user), ...rows.uploads.map((u) => u.user)])].sort(
    (a, b) => a - b,
  );
  for (const id of ids) {
    for (const u of rows.users) if (u === id) checker.addUser(u);
    for (const t of rows.tiers) if (t.user === id) checker.addTier(t.user, t.from, t.until, t.tier);
    for (const u of rows.uploads) if (u.user === id) checker.addUpload(u.txn, u.user, u.item, u.at);
  }
  return checker.finish();
}

const ALL_CHECKS = [
  'users_primary_key',
  'items_primary_key',
  'tiers_primary_key',
  'uploads_primary_key',
  'tiers_user_fk',
  'uploads_user_fk',
  'uploads_item_fk',
  'tiers_cover_window',
  'tier_changes_min_gap',
  'uploads_within_tier',
  'no_50gb_while_free',
];

function failing(checks: CheckResult[]): string[] {
  return checks.filter((c) => !c.passed).map((c) => c.name);
}

function check(checks: CheckResult[], name: string): CheckResult {
  const found = checks.find((c) => c.name === name);
  expect(found, name).toBeDefined();
  return found!;
}

/** Runs the rows and asserts that exactly `name` fails, with `violations` violations and an example matching `example`. */
function expectOnlyFailure(
  rows: Rows,
  name: string,
  violations: number,
  example: RegExp | string,
  ctx: IntegrityContext = CTX,
) {
  const { checks } = run(rows, ctx);
  expect(failing(checks)).toEqual([name]);
  const c = check(checks, name);
  expect(c.violations).toBe(violations);
  expect(c.passed).toBe(false);
  expect(c.examples.length).toBe(Math.min(violations, 10));
  expect(
    c.examples.some((e) => (typeof example === 'string' ? e.includes(example) : example.test(e))),
    JSON.stringify(c.examples),
  ).toBe(true);
  return c;
}

describe('clean rows', () => {
  it('every check passes, with no violations or examples', () => {
    const { checks } = run(clean());
    expect(checks.map((c) => c.name)).toEqual(ALL_CHECKS);
    for (const c of checks) {
      expect(c, c.name).toMatchObject({ passed: true, violations: 0, examples: [] });
      expect(c.description.length).toBeGreaterThan(0);
    }
  });

  it('summary: uploads per tier and size, upgrades and upgrades with a 50 GB upload in the first hour', () => {
    const { summary } = run(clean());
    expect(summary).toEqual({
      uploadsByTierAndSize: { free: { '5': 3, '50': 0 }, premium: { '5': 1, '50': 3 } },
      upgrades: 2,
      upgradesWithSpikeWithinHour: 1,
    });
  });

  it('the spike window is [upgrade, upgrade + 1 h): 3599 s counts, 3600 s does not', () => {
    const inside = clean();
    inside.uploads[5].at = S + 2 * D + H - 1;
    expect(run(inside).summary.upgradesWithSpikeWithinHour).toBe(2);
    const edge = clean();
    edge.uploads[4].at = S + 3 * D + H;
    expect(run(edge).summary.upgradesWithSpikeWithinHour).toBe(0);
    // A 5 GB upload in the first hour is not a spike.
    const small = clean();
    small.uploads[5] = { ...small.uploads[5], item: 1, at: S + 2 * D + 5 };
    expect(run(small).summary.upgradesWithSpikeWithinHour).toBe(1);
  });

  it('a premium interval starting at the window start is not an upgrade', () => {
    const rows = clean();
    // User 1 premium→free→premium: only the second premium interval is an upgrade.
    rows.tiers.splice(
      0,
      1,
      { user: 1, from: S, until: S + 2 * D, tier: 'premium' },
      { user: 1, from: S + 2 * D, until: S + 4 * D, tier: 'free' },
      { user: 1, from: S + 4 * D, until: E, tier: 'premium' },
    );
    rows.uploads[0].at = S + 4 * D + 30; // 50 GB, first hour of the upgrade
    const { checks, summary } = run(rows);
    expect(failing(checks)).toEqual([]);
    expect(summary.upgrades).toBe(3);
    expect(summary.upgradesWithSpikeWithinHour).toBe(2);
  });

  it('ids beyond the configured user count (bitset size) still work', () => {
    const { checks } = run(clean(), { ...CTX, users: 2 });
    expect(failing(checks)).toEqual([]);
  });

  it('a users row after the rows that reference it resolves the reference', () => {
    const checker = new IntegrityChecker(CTX);
    checker.addItem(1, 5);
    checker.addTier(1, S, E, 'free');
    checker.addUpload(1, 1, 1, S + 5);
    checker.addUser(1);
    expect(failing(checker.finish().checks)).toEqual([]);
  });
});

describe('one corrupted thing at a time', () => {
  it('users_primary_key: duplicate user id', () => {
    const rows = clean();
    rows.users.splice(2, 0, 2);
    expectOnlyFailure(rows, 'users_primary_key', 1, 'user_id=2');
  });

  it('items_primary_key: duplicate item id', () => {
    const rows = clean();
    rows.items.push([1, 5]);
    expectOnlyFailure(rows, 'items_primary_key', 1, 'item_id=1');
  });

  it('tiers_primary_key: duplicate (user_id, from_datetime)', () => {
    const rows = clean();
    // A zero-length premium interval at the change, then the real one: still contiguous.
    rows.tiers.splice(3, 0, { user: 3, from: S + 3 * D, until: S + 3 * D, tier: 'premium' });
    expectOnlyFailure(rows, 'tiers_primary_key', 1, /user_id=3.*from_datetime=2025-03-04T00:00:00Z/);
  });

  it('uploads_primary_key: repeated txn_id', () => {
    const rows = clean();
    rows.uploads[1].txn = 1;
    expectOnlyFailure(rows, 'uploads_primary_key', 1, 'txn_id=1');
  });

  it('uploads_primary_key: decreasing txn_id (only the out-of-order row counts)', () => {
    const rows = clean();
    rows.uploads[3].txn = 2;
    expectOnlyFailure(rows, 'uploads_primary_key', 1, 'txn_id=2');
  });

  it('tiers_user_fk: tier rows of a user missing from users', () => {
    const rows = clean();
    rows.tiers.push({ user: 7, from: S, until: E, tier: 'free' });
    expectOnlyFailure(rows, 'tiers_user_fk', 1, 'user_id=7');
  });

  it('tiers_user_fk + uploads_user_fk: tier and upload rows of a user missing from users', () => {
    const rows = clean();
    rows.users = rows.users.filter((u) => u !== 3);
    const { checks } = run(rows);
    expect(failing(checks)).toEqual(['tiers_user_fk', 'uploads_user_fk']);
    expect(check(checks, 'tiers_user_fk').violations).toBe(2);
    expect(check(checks, 'tiers_user_fk').examples.every((e) => e.includes('user_id=3'))).toBe(true);
    expect(check(checks, 'uploads_user_fk').violations).toBe(2);
    expect(check(checks, 'uploads_user_fk').examples.sort()).toEqual(['txn_id=4', 'txn_id=5']);
  });

  it('uploads_item_fk: unknown item', () => {
    const rows = clean();
    rows.uploads[2].item = 3;
    expectOnlyFailure(rows, 'uploads_item_fk', 1, /txn_id=3 item_id=3/);
  });

  it('tiers_cover_window: gap between intervals', () => {
    const rows = clean();
    rows.tiers[3].from = S + 3 * D + 1;
    expectOnlyFailure(rows, 'tiers_cover_window', 1, 'user_id=3');
  });

  it('tiers_cover_window: overlapping intervals', () => {
    const rows = clean();
    rows.tiers[5].from = S + 2 * D - 1;
    expectOnlyFailure(rows, 'tiers_cover_window', 1, 'user_id=4');
  });

  it('tiers_cover_window: not covering the start', () => {
    const rows = clean();
    rows.tiers[1].from = S + 1;
    expectOnlyFailure(rows, 'tiers_cover_window', 1, 'user_id=2');
  });

  it('tiers_cover_window: not covering the end', () => {
    const rows = clean();
    rows.tiers[0].until = E - 1;
    expectOnlyFailure(rows, 'tiers_cover_window', 1, 'user_id=1');
  });

  it('tiers_cover_window: running past the end', () => {
    const rows = clean();
    rows.tiers[6].until = E + 1;
    expectOnlyFailure(rows, 'tiers_cover_window', 1, 'user_id=4');
  });

  it('tiers_cover_window: an interval that ends before it starts', () => {
    const rows = clean();
    rows.tiers[3] = { user: 3, from: S + 3 * D, until: S + 3 * D - 5, tier: 'premium' };
    rows.uploads[4].at = S + 2 * D; // keep the upload inside the free interval
    rows.uploads[4].item = 1;
    rows.uploads[3].at = S + D;
    const c = expectOnlyFailure(rows, 'tiers_cover_window', 1, 'user_id=3');
    expect(c.examples).toEqual(['user_id=3']);
  });

  it('tiers_cover_window: a user without any tier interval', () => {
    const rows = clean();
    rows.tiers = rows.tiers.filter((t) => t.user !== 2);
    rows.uploads = rows.uploads.filter((u) => u.user !== 2).map((u, i) => ({ ...u, txn: i + 1 }));
    expectOnlyFailure(rows, 'tiers_cover_window', 1, 'user_id=2 (no tier interval)');
  });

  it('tiers_cover_window: a user without tiers is reported even when an unknown user has tiers', () => {
    const rows = clean();
    rows.tiers = rows.tiers.filter((t) => t.user !== 2);
    rows.uploads = rows.uploads.filter((u) => u.user !== 2);
    rows.tiers.push({ user: 9, from: S, until: E, tier: 'free' }); // user 9 is not in users
    const { checks } = run(rows);
    expect(failing(checks)).toEqual(['tiers_user_fk', 'tiers_cover_window']);
    expect(check(checks, 'tiers_cover_window').violations).toBe(1);
  });

  it('tiers_cover_window: an unknown tier name', () => {
    const rows = clean();
    rows.tiers[1].tier = 'gold';
    expectOnlyFailure(rows, 'tiers_cover_window', 1, /user_id=2.*tier="gold"/);
  });

  it('tiers_cover_window: tier rows of one user not grouped together', () => {
    const checker = new IntegrityChecker(CTX);
    checker.addItem(1, 5);
    checker.addUser(1);
    checker.addUser(2);
    checker.addTier(1, S, S + 3 * D, 'free');
    checker.addTier(2, S, E, 'free');
    checker.addTier(1, S + 3 * D, E, 'premium');
    const { checks } = checker.finish();
    expect(failing(checks)).toContain('tiers_cover_window');
    expect(
      check(checks, 'tiers_cover_window').examples.some((e) => /user_id=1 \(tiers not grouped by user\)/.test(e)),
    ).toBe(true);
  });

  it('tier_changes_min_gap: two changes closer than minTierGapHours', () => {
    const rows = clean();
    rows.tiers[5].until = S + 2 * D + 23 * H;
    rows.tiers[6].from = S + 2 * D + 23 * H;
    const c = expectOnlyFailure(rows, 'tier_changes_min_gap', 1, 'user_id=4');
    expect(c.examples[0]).toBe('user_id=4 changes at 2025-03-03T00:00:00Z and 2025-03-03T23:00:00Z');
  });

  it('tier_changes_min_gap: exactly minTierGapHours apart passes; the gap is compared in microseconds', () => {
    const rows = clean();
    rows.tiers[5].until = S + 3 * D;
    rows.tiers[6].from = S + 3 * D;
    expect(failing(run(rows).checks)).toEqual([]);
    // A gap of 24 h + 1 us: the same rows are now too close.
    expectOnlyFailure(rows, 'tier_changes_min_gap', 1, 'user_id=4', { ...CTX, minGapUs: 24 * 3_600_000_000 + 1 });
  });

  it('uploads_within_tier: upload at the (exclusive) window end', () => {
    const rows = clean();
    rows.uploads[6].at = E;
    expectOnlyFailure(rows, 'uploads_within_tier', 1, /txn_id=7 user_id=4 datetime=2025-03-11T00:00:00Z/);
  });

  it('uploads_within_tier: upload before the window start', () => {
    const rows = clean();
    rows.uploads[0].at = S - 1;
    expectOnlyFailure(rows, 'uploads_within_tier', 1, /txn_id=1 user_id=1 datetime=2025-02-28T23:59:59Z/);
  });

  it('uploads_within_tier: upload inside the window but in no tier interval (a gap)', () => {
    const rows = clean();
    rows.tiers[3].from = S + 3 * D + 20; // gap [S+3d, S+3d+20) holds the upload at S+3d+10
    const { checks } = run(rows);
    expect(failing(checks)).toEqual(['tiers_cover_window', 'uploads_within_tier']);
    expect(check(checks, 'uploads_within_tier').violations).toBe(1);
    expect(check(checks, 'uploads_within_tier').examples[0]).toMatch(/txn_id=5 user_id=3/);
  });

  it('no_50gb_while_free: a 50 GB upload while free', () => {
    const rows = clean();
    rows.uploads[2].item = 2;
    const c = expectOnlyFailure(rows, 'no_50gb_while_free', 1, 'txn_id=3 user_id=2');
    expect(c.examples).toHaveLength(1);
    expect(c.examples[0]).toMatch(/^txn_id=3 user_id=2\b/);
    expect(run(rows).summary.uploadsByTierAndSize.free).toEqual({ '5': 2, '50': 1 });
  });

  it('no_50gb_while_free: at the second a downgrade happens the upload is free', () => {
    const rows = clean();
    rows.uploads[6] = { txn: 7, user: 4, item: 2, at: S + 5 * D };
    expectOnlyFailure(rows, 'no_50gb_while_free', 1, 'txn_id=7 user_id=4');
  });
});

describe('violation counts and examples', () => {
  it('counts every violation but keeps at most 10 examples', () => {
    const rows = clean();
    for (let i = 0; i < 15; i++) rows.users.push(1);
    const c = expectOnlyFailure(rows, 'users_primary_key', 15, 'user_id=1');
    expect(c.examples).toHaveLength(10);
  });

  it('counts each offending upload', () => {
    const rows = clean();
    rows.uploads = rows.uploads.filter((u) => u.user !== 2);
    for (let i = 0; i < 12; i++) rows.uploads.push({ txn: 100 + i, user: 2, item: 2, at: S + 1000 + i });
    rows.uploads.sort((a, b) => a.user - b.user || a.txn - b.txn);
    rows.uploads.forEach((u, i) => (u.txn = i + 1));
    const c = expectOnlyFailure(rows, 'no_50gb_while_free', 12, /user_id=2/);
    expect(c.examples).toHaveLength(10);
  });
});
