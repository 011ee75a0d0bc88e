import { readFileSync } from 'node:fs';
import { stringify } from 'csv-stringify/sync';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../lambda/validation/validate.js';
import type { GenerationConfigInput } from '../lambda/config/schema.js';
import { CsvBuffer, doubleText, floatText } from '../lambda/rows/csv-buffer.js';
import { headerLine, itemLines, writeTierRows, writeUploadRows, writeUserRow } from '../lambda/rows/csv-format.js';
import { ITEMS, TABLE_NAMES, TABLES, type TableName } from '../lambda/layout/tables.js';
import { createEngine } from '../lambda/engine/create-engine.js';
import { newUserBatch, type UserBatch } from '../lambda/engine/user-batch.js';

/**
 * Our in-place CSV writer must produce exactly the bytes csv-stringify writes with the options
 * below, which in turn are exactly Python csv's bytes (checked against the reference's golden CSVs).
 */
const CSV_OPTIONS = { record_delimiter: '\r\n' } as const;

const stringifyTable = (table: TableName, records: unknown[][]): string =>
  stringify(records, { ...CSV_OPTIONS, header: true, columns: [...TABLES[table].columns] });

/** Independent of lambda/: ISO text via Date, milliseconds dropped. */
const iso = (epochSeconds: number): string => new Date(epochSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
/** Python's f"User {uid:03d}". */
const pyName = (uid: number): string => `User ${String(uid).padStart(3, '0')}`;

interface Built {
  ours: Record<TableName, Buffer>;
  records: Record<TableName, unknown[][]>;
  users: number;
}

/** Runs the engine once; writes each batch with our writer and copies its values into plain records. */
function build(input: GenerationConfigInput, keep: (userId: number) => boolean = () => true): Built {
  const config = parseConfig(input);
  const bufs = { users: new CsvBuffer(), tiers: new CsvBuffer(), uploads: new CsvBuffer() };
  const records: Record<TableName, unknown[][]> = {
    users: [],
    tiers: [],
    items: ITEMS.map((i) => [i.itemId, i.sizeGb]),
    uploads: [],
  };
  let users = 0;
  for (const batch of createEngine(config)) {
    users++;
    writeUserRow(batch, bufs.users);
    records.users.push([batch.userId, pyName(batch.userId)]);
    if (!keep(batch.userId)) continue;
    writeTierRows(batch, bufs.tiers);
    writeUploadRows(batch, bufs.uploads);
    // Batches are reused: copy the values out now.
    for (let t = 0; t < batch.tierCount; t++) {
      records.tiers.push([
        batch.userId,
        iso(batch.tierFrom[t]),
        iso(batch.tierUntil[t]),
        batch.tierIsPremium[t] ? 'premium' : 'free',
      ]);
    }
    for (let j = 0; j < batch.uploadCount; j++) {
      records.uploads.push([batch.uploadTxnId[j], batch.userId, batch.uploadItemId[j], iso(batch.uploadAt[j])]);
    }
  }
  const ours = {
    users: Buffer.concat([Buffer.from(headerLine('users')), bufs.users.take()]),
    tiers: Buffer.concat([Buffer.from(headerLine('tiers')), bufs.tiers.take()]),
    items: Buffer.from(headerLine('items') + itemLines()),
    uploads: Buffer.concat([Buffer.from(headerLine('uploads')), bufs.uploads.take()]),
  };
  return { ours, records, users };
}

function expectSameTables(built: Built): void {
  for (const table of TABLE_NAMES) {
    const expected = stringifyTable(table, built.records[table]);
    const actual = built.ours[table].toString('latin1');
    if (actual !== expected) {
      // Show the first differing line rather than two megabyte strings.
      const a = actual.split('\r\n');
      const e = expected.split('\r\n');
      const i = a.findIndex((line, k) => line !== e[k]);
      expect({ table, line: i, actual: a[i] }).toEqual({ table, line: i, expected: e[i] });
    }
    expect(built.ours[table].equals(Buffer.from(expected, 'latin1')), table).toBe(true);
  }
}

describe('csv-stringify options reproduce Python csv bytes', () => {
  it('re-stringifying the reference golden CSVs (notebook-seed-42) gives the same bytes', () => {
    for (const table of TABLE_NAMES) {
      const golden = readFileSync(
        new URL(`./fixtures/golden/notebook-seed-42/${TABLES[table].file}`, import.meta.url),
        'latin1',
      );
      const [header, ...rows] = golden.split('\r\n').slice(0, -1);
      expect(header.split(',')).toEqual(TABLES[table].columns);
      const records = rows.map((line) => line.split(','));
      expect(stringifyTable(table, records)).toBe(golden);
    }
  });

  it('our bytes for the default config equal the golden notebook CSVs', () => {
    const built = build({});
    for (const table of TABLE_NAMES) {
      const golden = readFileSync(new URL(`./fixtures/golden/notebook-seed-42/${TABLES[table].file}`, import.meta.url));
      expect(built.ours[table].equals(golden), table).toBe(true);
    }
  });
});

describe('our CSV writer equals csv-stringify on whole generated datasets', () => {
  const configs: [string, GenerationConfigInput][] = [
    ['default (notebook)', {}],
    [
      'seed 7, 1500 users (ids >= 1000), 30 days, busy uploaders',
      {
        seed: 7,
        users: 1500,
        start: '2025-01-01T00:00:00Z',
        end: '2025-01-31T00:00:00Z',
        premiumUploadsPerDay: { mean: 8, std: 4 },
        freeUploadsPerDay: { mean: 3, std: 2 },
      },
    ],
    [
      'seed 4294967295, 1200 users, cohortSizes, odd-second window over a leap day',
      {
        seed: 4294967295,
        users: 1200,
        start: '2024-02-27T12:34:56Z',
        end: '2024-03-03T01:02:03Z',
        minTierGapHours: 7.25,
        cohortSizes: [100, 200, 300, 400, 200],
      },
    ],
    [
      'seed 0, window over a new year (1999 → 2000)',
      {
        seed: 0,
        users: 300,
        start: '1999-12-30T18:00:00Z',
        end: '2000-01-02T06:00:00Z',
        minTierGapHours: 12,
      },
    ],
    [
      'seed 1, the earliest and latest years allowed',
      {
        seed: 1,
        users: 50,
        start: '1000-01-01T00:00:00Z',
        end: '1000-01-03T00:00:00Z',
      },
    ],
    [
      'seed 2, ending at the last second of year 9999',
      {
        seed: 2,
        users: 50,
        start: '9999-12-29T00:00:00Z',
        end: '9999-12-31T23:59:59Z',
        minTierGapHours: 6,
      },
    ],
  ];

  for (const [name, input] of configs) {
    it(name, () => {
      const built = build(input);
      expect(built.records.users.length).toBe(parseConfig(input).users);
      expect(built.records.uploads.length).toBeGreaterThan(0);
      expectSameTables(built);
    });
  }

  it('1,000,000 users: names past six digits ("User 1000000"); whole users table, tiers/uploads of the first and last users', () => {
    // A 2-hour window keeps this to a few seconds; only some users' tier/upload rows are compared.
    const users = 1_000_000;
    const keep = (id: number) => id <= 2000 || id > users - 3000;
    const built = build(
      { seed: 2025, users, start: '2025-06-01T00:00:00Z', end: '2025-06-01T02:00:00Z', minTierGapHours: 0.5 },
      keep,
    );
    expect(built.users).toBe(users);
    expect(built.records.users.length).toBe(users);
    expect(built.records.users.at(-1)).toEqual([1_000_000, 'User 1000000']);
    expect(built.ours.users.toString('latin1').endsWith('\r\n999999,User 999999\r\n1000000,User 1000000\r\n')).toBe(
      true,
    );
    expect(built.records.uploads.some((r) => (r[1] as number) > users - 3000)).toBe(true);
    expectSameTables(built);
  }, 60_000);
});

describe('single rows', () => {
  it('user names are zero-padded to three digits only', () => {
    const cases: [number, string][] = [
      [1, 'User 001'],
      [9, 'User 009'],
      [10, 'User 010'],
      [99, 'User 099'],
      [100, 'User 100'],
      [999, 'User 999'],
      [1000, 'User 1000'],
      [1_000_000, 'User 1000000'],
      [10_000_000, 'User 10000000'],
    ];
    for (const [id, name] of cases) {
      const batch = newUserBatch();
      batch.userId = id;
      const buf = new CsvBuffer();
      writeUserRow(batch, buf);
      expect(buf.take().toString('latin1')).toBe(stringify([[id, name]], CSV_OPTIONS));
    }
  });

  it('large ids and txn ids (beyond 2^31) and many uploads in one batch', () => {
    const batch: UserBatch = newUserBatch();
    batch.userId = 9_999_999;
    batch.tierCount = 1;
    batch.tierFrom[0] = Date.UTC(2025, 0, 1) / 1000;
    batch.tierUntil[0] = Date.UTC(2025, 11, 31, 23, 59, 59) / 1000;
    batch.tierIsPremium[0] = 1;
    const n = 5000;
    batch.uploadTxnId = new Float64Array(n);
    batch.uploadItemId = new Uint8Array(n);
    batch.uploadAt = new Float64Array(n);
    batch.uploadCount = n;
    const records: unknown[][] = [];
    for (let j = 0; j < n; j++) {
      batch.uploadTxnId[j] = 2 ** 31 - 2500 + j * 1_000_003; // crosses 2^31 and 2^32
      batch.uploadItemId[j] = (j % 2) + 1;
      batch.uploadAt[j] = batch.tierFrom[0] + j * 6311;
      records.push([batch.uploadTxnId[j], batch.userId, batch.uploadItemId[j], iso(batch.uploadAt[j])]);
    }
    const buf = new CsvBuffer(64);
    writeTierRows(batch, buf);
    writeUploadRows(batch, buf);
    const expected =
      stringify([[9_999_999, '2025-01-01T00:00:00Z', '2025-12-31T23:59:59Z', 'premium']], CSV_OPTIONS) +
      stringify(records, CSV_OPTIONS);
    expect(buf.take().toString('latin1')).toBe(expected);
  });

  it('headers and items', () => {
    for (const table of TABLE_NAMES)
      expect(headerLine(table)).toBe(
        stringify([], { ...CSV_OPTIONS, header: true, columns: [...TABLES[table].columns] }),
      );
    expect(itemLines()).toBe(
      stringify(
        [
          [1, 5],
          [2, 50],
        ],
        CSV_OPTIONS,
      ),
    );
  });
});

describe('doubleText', () => {
  it('writes every double as String(x) does', () => {
    // Doubles from raw bits over every exponent (subnormals included), a seeded generator so a
    // failure names a reproducible value, plus the values where number-to-text changes shape.
    const bits = new DataView(new ArrayBuffer(8));
    let state = 0x9e3779b9;
    const next32 = () => {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      return state >>> 0;
    };
    const values: number[] = [
      0,
      -0,
      5e-324,
      1e-7,
      1e-6,
      9.999999999999997e-7, // the double just below 1e-6
      0.1,
      1,
      1e20,
      1e21,
      123456789012345680000,
      0.1 + 0.2,
      Number.MAX_VALUE,
      NaN,
      Infinity,
      -Infinity,
    ];
    for (let i = 0; i < 200_000; i++) {
      bits.setUint32(0, next32());
      bits.setUint32(4, next32());
      values.push(Math.abs(bits.getFloat64(0)));
    }
    // Rates and probabilities as the files hold them: lognormal-ish rates, probabilities in (0, 1).
    for (let i = 0; i < 200_000; i++)
      values.push(Math.exp((next32() / 2 ** 32) * 20 - 10) / 24, 1 - Math.exp(-(next32() / 2 ** 32)));
    const differing = values.filter((x) => doubleText(x) !== String(x));
    expect(differing).toEqual([]);
  });
});

describe('floatText', () => {
  it('reads back as the same double and never looks like an integer (0.0, never 0)', () => {
    expect([0, -0, 1, 0.5, 3, 1e20, 1e21, 1e-7].map(floatText)).toEqual([
      '0.0',
      '0.0',
      '1.0',
      '0.5',
      '3.0',
      '100000000000000000000.0',
      '1e+21',
      '1e-7',
    ]);
    let state = 0x2545f491;
    const wrong: string[] = [];
    for (let i = 0; i < 100_000; i++) {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      // Integral values, probabilities and rates over many magnitudes.
      for (const x of [state % 1000, state / 2 ** 32, Math.exp((state / 2 ** 32) * 60 - 30)]) {
        const text = floatText(x);
        if (Number(text) !== x || /^-?\d+$/.test(text)) wrong.push(`${x} written as ${text}`);
      }
    }
    expect(wrong).toEqual([]);
  });
});
