import { formatUtcTimestamp } from '../time/utc-timestamp.js';
import { IdSet } from './id-set.js';

export interface CheckResult {
  name: string;
  description: string;
  passed: boolean;
  violations: number;
  examples: string[];
}

export interface IntegritySummary {
  uploadsByTierAndSize: { free: { '5': number; '50': number }; premium: { '5': number; '50': number } };
  upgrades: number;
  upgradesWithSpikeWithinHour: number;
}

export interface IntegrityContext {
  /** Epoch seconds of the window, end exclusive. */
  start: number;
  end: number;
  /** Minimum time between two tier changes, in microseconds. */
  minGapUs: number;
  /** Number of users expected (sizes the id bitsets; other ids still work). */
  users: number;
  /**
   * First user id expected (default 1): a checker over one part of the rows (a block of users, a
   * shard) expects users firstUser..firstUser+users-1, and every reference resolves within it.
   */
  firstUser?: number;
}

export interface IntegrityResult {
  checks: CheckResult[];
  summary: IntegritySummary;
}

const MAX_EXAMPLES = 10;

const CHECKS = {
  users_primary_key: 'users.user_id is unique',
  items_primary_key: 'items.item_id is unique',
  tiers_primary_key: 'tiers (user_id, from_datetime) is unique',
  uploads_primary_key: 'uploads.txn_id is unique (strictly increasing in file order)',
  tiers_user_fk: 'every tiers.user_id is in users',
  uploads_user_fk: 'every uploads.user_id is in users',
  uploads_item_fk: 'every uploads.item_id is in items',
  tiers_cover_window: "each user's tier intervals are contiguous, non-overlapping and cover [start, end)",
  tier_changes_min_gap: 'tier changes of one user are at least minTierGapHours apart',
  uploads_within_tier: "every upload falls inside the window and one of its user's tier intervals",
  no_50gb_while_free: 'no 50 GB upload while the user is free',
} as const;

type CheckName = keyof typeof CHECKS;

interface TierRow {
  from: number;
  until: number;
  premium: boolean;
  /** A 50 GB upload fell in [from, from + 1h). */
  spikeHit: boolean;
}

const tierKey = (userId: number, from: number): string =>
  `(user_id=${userId}, from_datetime=${formatUtcTimestamp(from)})`;

/**
 * Integrity checks over the rows as written (second precision), streamed in file order.
 * Rows of each table come sorted by user; a user's uploads arrive after that user's tiers.
 * Memory grows with the number of users (id bitsets), never with the number of uploads.
 */
export class IntegrityChecker {
  private readonly counts = Object.fromEntries(
    (Object.keys(CHECKS) as CheckName[]).map((name) => [name, { violations: 0, examples: [] as string[] }]),
  ) as Record<CheckName, { violations: number; examples: string[] }>;
  // Ids relative to the first expected user, so a block's bitsets are the block's size.
  private readonly users: IdSet;
  private readonly usersWithTiers: IdSet;
  private readonly idBase: number;
  private readonly items = new Map<number, number>();
  // User ids referenced before (or without) a users row; resolved or reported at the end.
  private readonly pendingUserRefs = new Map<number, Array<[CheckName, string]>>();
  private lastTxnId = Number.NEGATIVE_INFINITY;
  private tierUser: number | undefined;
  // The current user's tier rows: the first tierCount of a pool reused from user to user.
  private readonly tiers: TierRow[] = [];
  private tierCount = 0;
  // Uploads by [free 5 GB, free 50 GB, premium 5 GB, premium 50 GB]; upgrades; upgrades with a spike.
  private readonly uploadCounts = new Float64Array(4);
  private upgrades = 0;
  private upgradesWithSpike = 0;

  constructor(private readonly ctx: IntegrityContext) {
    this.users = new IdSet(ctx.users);
    this.usersWithTiers = new IdSet(ctx.users);
    this.idBase = (ctx.firstUser ?? 1) - 1;
  }

  addUser(userId: number): void {
    if (!this.users.add(userId - this.idBase)) this.fail('users_primary_key', `user_id=${userId}`);
    this.pendingUserRefs.delete(userId);
  }

  addItem(itemId: number, sizeGb: number): void {
    if (this.items.has(itemId)) this.fail('items_primary_key', `item_id=${itemId}`);
    else this.items.set(itemId, sizeGb);
  }

  addTier(userId: number, from: number, until: number, tier: string): void {
    if (userId !== this.tierUser) {
      this.closeTierGroup();
      this.tierUser = userId;
      // A user's tiers must come as one block; a second block means rows out of user order.
      if (!this.usersWithTiers.add(userId - this.idBase))
        this.fail('tiers_cover_window', `user_id=${userId} (tiers not grouped by user)`);
    }
    if (!this.users.has(userId - this.idBase)) this.refUser(userId, 'tiers_user_fk', `tiers user_id=${userId}`);
    for (let t = 0; t < this.tierCount; t++)
      if (this.tiers[t].from === from) this.fail('tiers_primary_key', tierKey(userId, from));
    const row = (this.tiers[this.tierCount++] ??= { from: 0, until: 0, premium: false, spikeHit: false });
    row.from = from;
    row.until = until;
    row.premium = tier === 'premium';
    row.spikeHit = false;
    if (tier !== 'premium' && tier !== 'free')
      this.fail('tiers_cover_window', `${tierKey(userId, from)} tier=${JSON.stringify(tier)}`);
  }

  addUpload(txnId: number, userId: number, itemId: number, at: number): void {
    if (!(txnId > this.lastTxnId)) this.fail('uploads_primary_key', `txn_id=${txnId}`);
    else this.lastTxnId = txnId;
    if (!this.users.has(userId - this.idBase)) this.refUser(userId, 'uploads_user_fk', `txn_id=${txnId}`);
    const size = this.items.get(itemId);
    if (size === undefined) this.fail('uploads_item_fk', `txn_id=${txnId} item_id=${itemId}`);

    const tier = userId === this.tierUser ? this.tierAt(at) : undefined;
    if (at < this.ctx.start || at >= this.ctx.end || !tier) {
      this.fail('uploads_within_tier', `txn_id=${txnId} user_id=${userId} datetime=${formatUtcTimestamp(at)}`);
    }
    if (!tier || size === undefined) return;
    const large = size === 50;
    if (large && !tier.premium)
      this.fail('no_50gb_while_free', `txn_id=${txnId} user_id=${userId} datetime=${formatUtcTimestamp(at)}`);
    this.uploadCounts[(tier.premium ? 2 : 0) + (large ? 1 : 0)]++;
    if (large) {
      for (let i = 0; i < this.tierCount; i++) {
        const t = this.tiers[i];
        if (t.from <= at && at < t.from + 3600) t.spikeHit = true;
      }
    }
  }

  /** Results of every check, and the summary; call once after the last row. */
  finish(): IntegrityResult {
    this.closeTierGroup();
    this.tierUser = undefined;
    for (const refs of this.pendingUserRefs.values()) for (const [check, key] of refs) this.fail(check, key);
    this.pendingUserRefs.clear();
    const withoutTiers = this.users.missingFrom(this.usersWithTiers, MAX_EXAMPLES);
    for (const id of withoutTiers.first)
      this.fail('tiers_cover_window', `user_id=${id + this.idBase} (no tier interval)`);
    this.counts.tiers_cover_window.violations += withoutTiers.count - withoutTiers.first.length;
    const checks = (Object.keys(CHECKS) as CheckName[]).map((name) => {
      const { violations, examples } = this.counts[name];
      return { name, description: CHECKS[name], passed: violations === 0, violations, examples };
    });
    const [free5, free50, premium5, premium50] = this.uploadCounts;
    const summary: IntegritySummary = {
      uploadsByTierAndSize: { free: { '5': free5, '50': free50 }, premium: { '5': premium5, '50': premium50 } },
      upgrades: this.upgrades,
      upgradesWithSpikeWithinHour: this.upgradesWithSpike,
    };
    return { checks, summary };
  }

  private tierAt(at: number): TierRow | undefined {
    for (let i = 0; i < this.tierCount; i++) {
      const t = this.tiers[i];
      if (t.from <= at && at < t.until) return t;
    }
    return undefined;
  }

  private refUser(userId: number, check: CheckName, key: string): void {
    const refs = this.pendingUserRefs.get(userId) ?? [];
    refs.push([check, key]);
    this.pendingUserRefs.set(userId, refs);
  }

  private closeTierGroup(): void {
    const user = this.tierUser;
    if (user === undefined) return;
    const tiers = this.tiers;
    const n = this.tierCount;
    // By from_datetime (a stable insertion sort: a few rows, almost always in order already).
    for (let i = 1; i < n; i++) {
      const row = tiers[i];
      let j = i;
      for (; j > 0 && tiers[j - 1].from > row.from; j--) tiers[j] = tiers[j - 1];
      tiers[j] = row;
    }
    let covered = tiers[0].from === this.ctx.start && tiers[n - 1].until === this.ctx.end;
    for (let t = 0; t < n; t++) {
      if (tiers[t].until < tiers[t].from) covered = false;
      if (t > 0 && tiers[t].from !== tiers[t - 1].until) covered = false;
    }
    if (!covered) this.fail('tiers_cover_window', `user_id=${user}`);

    let lastChange: number | undefined;
    for (let t = 1; t < n; t++) {
      if (tiers[t].premium === tiers[t - 1].premium) continue;
      const change = tiers[t].from;
      if (lastChange !== undefined && (change - lastChange) * 1e6 < this.ctx.minGapUs) {
        this.fail(
          'tier_changes_min_gap',
          `user_id=${user} changes at ${formatUtcTimestamp(lastChange)} and ${formatUtcTimestamp(change)}`,
        );
      }
      lastChange = change;
    }
    // An upgrade: a premium interval that follows a free one, after the window start.
    for (let t = 1; t < n; t++) {
      if (!tiers[t].premium || tiers[t - 1].premium || tiers[t].from <= this.ctx.start) continue;
      this.upgrades++;
      if (tiers[t].spikeHit) this.upgradesWithSpike++;
    }
    this.tierCount = 0;
  }

  private fail(check: CheckName, example: string): void {
    const entry = this.counts[check];
    entry.violations++;
    if (entry.examples.length < MAX_EXAMPLES) entry.examples.push(example);
  }
}

/**
 * The results of checkers over consecutive parts of the rows (blocks of users, shards), in row
 * order, as one result: violations and summaries add up, examples are the first ten in part order.
 * Each part's checker resolves references within its part (see `IntegrityContext.firstUser`).
 */
export function mergeIntegrity(parts: IntegrityResult[]): IntegrityResult {
  const checks = parts[0].checks.map((first, i) => {
    const all = parts.map((p) => p.checks[i]);
    const violations = all.reduce((s, c) => s + c.violations, 0);
    return {
      ...first,
      violations,
      passed: violations === 0,
      examples: all.flatMap((c) => c.examples).slice(0, MAX_EXAMPLES),
    };
  });
  const summary: IntegritySummary = {
    uploadsByTierAndSize: { free: { '5': 0, '50': 0 }, premium: { '5': 0, '50': 0 } },
    upgrades: 0,
    upgradesWithSpikeWithinHour: 0,
  };
  for (const { summary: s } of parts) {
    for (const tier of ['free', 'premium'] as const)
      for (const size of ['5', '50'] as const)
        summary.uploadsByTierAndSize[tier][size] += s.uploadsByTierAndSize[tier][size];
    summary.upgrades += s.upgrades;
    summary.upgradesWithSpikeWithinHour += s.upgradesWithSpikeWithinHour;
  }
  return { checks, summary };
}
