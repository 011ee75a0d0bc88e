import { z } from 'zod';
import { TIMESTAMP_PATTERN } from '../time/utc-timestamp.js';

/** The generation config: one schema for every entry point (CLI, Lambda). Defaults are the notebook's. */

export const MAX_SEED = 4_294_967_295;
export const MAX_USERS = 10_000_000;
// Any larger rate would ask for billions of rows per user; refuse it rather than run for days.
const MAX_RATE_PER_DAY = 1_000_000;

const intIn = (min: number, max: number) =>
  z
    .number({ error: `must be an integer from ${min} to ${max}` })
    .int({ error: `must be an integer from ${min} to ${max}` })
    .min(min, { error: `must be an integer from ${min} to ${max}` })
    .max(max, { error: `must be an integer from ${min} to ${max}` });

const probability = () =>
  z
    .number({ error: 'must be a number' })
    .min(0, { error: 'must be between 0 and 1' })
    .max(1, { error: 'must be between 0 and 1' });

const timestamp = () =>
  z
    .string({ error: 'must be a UTC timestamp string YYYY-MM-DDTHH:MM:SSZ' })
    .regex(TIMESTAMP_PATTERN, { error: 'must be a UTC timestamp YYYY-MM-DDTHH:MM:SSZ' });

/** A split boundary: a timestamp, or null for the default computed from the window. */
const splitBoundary = () =>
  z
    .string({ error: 'must be a UTC timestamp string YYYY-MM-DDTHH:MM:SSZ, or null (the default)' })
    .regex(TIMESTAMP_PATTERN, { error: 'must be a UTC timestamp YYYY-MM-DDTHH:MM:SSZ, or null (the default)' })
    .nullable()
    .default(null);

const uploadRate = (mean: number, std: number) =>
  z
    .strictObject({
      mean: z
        .number({ error: 'must be a number' })
        .gt(0, { error: 'must be greater than 0 (uploads per day)' })
        .max(MAX_RATE_PER_DAY, { error: `must be at most ${MAX_RATE_PER_DAY} uploads per day` })
        .default(mean),
      std: z
        .number({ error: 'must be a number' })
        .min(0, { error: 'must be 0 or greater (uploads per day)' })
        .max(MAX_RATE_PER_DAY, { error: `must be at most ${MAX_RATE_PER_DAY} uploads per day` })
        .default(std),
    })
    .prefault({});

/** The prediction task files; the cross-field rules (window, split order, `enabled`) are in validate.ts. */
export const tasksSchema = z.strictObject({
  // false: no task file at all (the tables, truth/users.csv and schema.json only).
  enabled: z.boolean({ error: 'must be true or false' }).default(true),
  // The share of users who get task rows, a sample fixed by the seed and the user id.
  userFraction: z
    .number({ error: 'must be a number' })
    .gt(0, { error: 'must be greater than 0 and at most 1 (the share of users with task rows)' })
    .max(1, { error: 'must be greater than 0 and at most 1 (the share of users with task rows)' })
    .default(1),
  gridHours: z.number({ error: 'must be a number' }).gt(0, { error: 'must be greater than 0 (hours)' }).default(12),
  valFrom: splitBoundary(),
  testFrom: splitBoundary(),
});

export const ENGINES = ['reference', 'seedrandom'] as const;

/** The file formats a dataset's tables are written in. */
export const FORMATS = ['csv', 'parquet'] as const;
export type DatasetFormat = (typeof FORMATS)[number];

const formatsRule = `must be a non-empty array of distinct formats from: ${FORMATS.join(', ')}`;

export const generationConfigSchema = z.strictObject({
  engine: z.enum(ENGINES, { error: `must be one of: ${ENGINES.join(', ')}` }).default('reference'),
  seed: intIn(0, MAX_SEED).default(42),
  users: intIn(1, MAX_USERS).default(100),
  start: timestamp().default('2025-03-01T00:00:00Z'),
  end: timestamp().default('2025-03-11T00:00:00Z'),
  minTierGapHours: z
    .number({ error: 'must be a number' })
    .min(0, { error: 'must be 0 or greater (hours)' })
    .default(24),
  freeUploadsPerDay: uploadRate(1.0, 0.7),
  premiumUploadsPerDay: uploadRate(3.0, 1.0),
  premiumLargeShare: probability().default(0.4),
  upgradeSpike: z
    .strictObject({
      probability: probability().default(0.9),
      maxUploads: z.union([z.literal(1), z.literal(2)], { error: 'must be 1 or 2' }).default(2),
      secondUploadProbability: probability().default(0.15),
    })
    .prefault({}),
  cohortSizes: z
    .array(intIn(0, MAX_USERS), { error: 'must be an array of five non-negative integers, or null' })
    .length(5, { error: 'must list exactly five cohort sizes (cohorts 1..5 in order)' })
    .nullable()
    .default(null),
  // KumoRFM reads an empty end time as "still in effect"; only tiers.csv's text changes.
  openEndedTiers: z.boolean({ error: 'must be true or false' }).default(false),
  tasks: tasksSchema.prefault({}),
  // Part of the identity: a Parquet dataset is another dataset (other files, other manifest).
  formats: z
    .array(z.enum(FORMATS, { error: `must be one of: ${FORMATS.join(', ')}` }), { error: formatsRule })
    .min(1, { error: formatsRule })
    .refine((formats) => new Set(formats).size === formats.length, { error: formatsRule })
    // One order, so that the same formats are the same dataset.
    .overwrite((formats) => FORMATS.filter((f) => formats.includes(f)))
    .default(['csv']),
});

/** A config with every default filled in. */
export type GenerationConfig = z.infer<typeof generationConfigSchema>;
/** What a user may write: any subset of the keys. */
export type GenerationConfigInput = z.input<typeof generationConfigSchema>;
