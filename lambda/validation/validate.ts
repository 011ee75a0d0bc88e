import type { z } from 'zod';
import { issueProblems, problemsListed, type Problem } from '../errors/problem.js';
import { MAX_USER_UPLOADS, userUploadBound } from '../engine/upload-bound.js';
import { defaultSplitBoundaries, SECONDS_PER_HOUR } from '../config/task-settings.js';
import { formatUtcTimestamp, parseUtcTimestamp } from '../time/utc-timestamp.js';
import { generationConfigSchema, tasksSchema, type GenerationConfig } from '../config/schema.js';

export class ConfigError extends Error {
  constructor(readonly problems: Problem[]) {
    super(`invalid generation config:\n${problemsListed(problems)}`);
    this.name = 'ConfigError';
  }
}

const MAX_WINDOW_DAYS = 366;
// The reference prints years below 1000 without zero padding; keep every timestamp four digits.
const MIN_YEAR = 1000;

export type ValidationResult = { ok: true; config: GenerationConfig } | { ok: false; problems: Problem[] };

/** Validates and normalizes a raw config, reporting every broken rule at once. */
export function validateConfig(raw: unknown): ValidationResult {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { ok: false, problems: [{ field: '(config)', rule: 'must be a JSON object' }] };
  }
  const parsed = generationConfigSchema.safeParse(raw);
  const problems = parsed.success ? [] : issueProblems(parsed.error.issues, { whole: '(config)', allowedKeys });
  problems.push(...crossFieldProblems(raw as Record<string, unknown>, problems));
  if (problems.length > 0 || !parsed.success) return { ok: false, problems };
  return { ok: true, config: parsed.data };
}

export function parseConfig(raw: unknown): GenerationConfig {
  const result = validateConfig(raw);
  if (!result.ok) throw new ConfigError(result.problems);
  return result.config;
}

function allowedKeys(path: readonly PropertyKey[]): string[] {
  let shape: Record<string, unknown> = generationConfigSchema.shape;
  for (const key of path) {
    let inner = shape[String(key)] as { def?: { innerType?: unknown }; shape?: Record<string, unknown> } | undefined;
    // Unwrap .default()/.prefault() wrappers to reach the object's shape.
    while (inner && !inner.shape && inner.def?.innerType) inner = inner.def.innerType;
    shape = inner?.shape ?? {};
  }
  return Object.keys(shape);
}

/** Rules that relate fields to each other; each only checked when its fields are individually valid. */
function crossFieldProblems(raw: Record<string, unknown>, fieldProblems: Problem[]): Problem[] {
  const bad = new Set(fieldProblems.map((p) => p.field.split('.')[0]));
  const shape = generationConfigSchema.shape;
  const value = <K extends keyof typeof shape>(key: K): z.infer<(typeof shape)[K]> | undefined =>
    bad.has(key) ? undefined : (shape[key].safeParse(raw[key]).data as z.infer<(typeof shape)[K]> | undefined);
  const problems: Problem[] = [];

  const startText = value('start');
  const endText = value('end');
  const start = startText === undefined ? undefined : parseUtcTimestamp(startText);
  const end = endText === undefined ? undefined : parseUtcTimestamp(endText);
  for (const [field, text, seconds] of [
    ['start', startText, start],
    ['end', endText, end],
  ] as const) {
    if (text === undefined) continue;
    if (seconds === undefined)
      problems.push({ field, rule: `must be a real calendar time (got ${JSON.stringify(text)})` });
    else if (Number(text.slice(0, 4)) < MIN_YEAR) problems.push({ field, rule: `year must be ${MIN_YEAR} or later` });
  }
  if (start !== undefined && end !== undefined) {
    const windowSeconds = end - start;
    if (windowSeconds <= 0) problems.push({ field: 'end', rule: 'must be after start' });
    else if (windowSeconds > MAX_WINDOW_DAYS * 86400) {
      problems.push({ field: 'end', rule: `window from start to end must be at most ${MAX_WINDOW_DAYS} days` });
    } else {
      const gap = value('minTierGapHours');
      if (gap !== undefined && gap * 3600 >= windowSeconds) {
        problems.push({
          field: 'minTierGapHours',
          rule: `must be shorter than the window from start to end (${windowSeconds / 3600} hours)`,
        });
      }
    }
  }

  const disabled = disabledTaskProblems(raw.tasks);
  if (disabled) problems.push(...disabled);
  else if (start !== undefined && end !== undefined && end > start) {
    const fieldsWithProblems = new Set(fieldProblems.map((p) => p.field));
    problems.push(...taskProblems(raw.tasks, fieldsWithProblems, start, end));
  }

  const users = value('users');
  const free = value('freeUploadsPerDay');
  const premium = value('premiumUploadsPerDay');
  const spike = value('upgradeSpike');
  if (
    startText !== undefined &&
    endText !== undefined &&
    start !== undefined &&
    end !== undefined &&
    end > start &&
    end - start <= MAX_WINDOW_DAYS * 86400 &&
    users &&
    free &&
    premium &&
    spike
  ) {
    const bound = userUploadBound({
      users,
      start: startText,
      end: endText,
      freeUploadsPerDay: free,
      premiumUploadsPerDay: premium,
      upgradeSpike: spike,
    });
    if (bound.uploads > MAX_USER_UPLOADS) {
      problems.push({
        field: bound.field,
        rule:
          `one user may be asked for up to ${bound.uploads} uploads (this rate's far tail over the window), ` +
          `more than the ${MAX_USER_UPLOADS} one user may have: lower mean or std, or shorten the window`,
      });
    }
  }
  const sizes = value('cohortSizes');
  if (users !== undefined && sizes) {
    const sum = sizes.reduce((a, b) => a + b, 0);
    if (sum !== users) problems.push({ field: 'cohortSizes', rule: `must sum to users (${users}), got ${sum}` });
  }
  return problems;
}

/**
 * With `tasks.enabled: false` there is no task file: any other task key given beside it would
 * change the dataset's id and nothing else, so it is refused. Undefined when tasks are enabled.
 */
function disabledTaskProblems(rawTasks: unknown): Problem[] | undefined {
  if (typeof rawTasks !== 'object' || rawTasks === null) return undefined;
  const given = rawTasks as Record<string, unknown>;
  if (given.enabled !== false) return undefined;
  return Object.keys(given)
    .filter((key) => key !== 'enabled' && key in tasksSchema.shape)
    .map((key) => ({
      field: `tasks.${key}`,
      rule: 'must be left out when tasks.enabled is false (there is no task file)',
    }));
}

/** The task rules that relate to the window: grid spacing, and start < valFrom <= testFrom < end. */
function taskProblems(rawTasks: unknown, fieldsWithProblems: Set<string>, start: number, end: number): Problem[] {
  const given = typeof rawTasks === 'object' && rawTasks !== null ? (rawTasks as Record<string, unknown>) : {};
  const shape = tasksSchema.shape;
  const value = <K extends keyof typeof shape>(key: K): z.infer<(typeof shape)[K]> | undefined =>
    fieldsWithProblems.has(`tasks.${key}`)
      ? undefined
      : (shape[key].safeParse(given[key]).data as z.infer<(typeof shape)[K]> | undefined);
  const problems: Problem[] = [];
  const windowHours = (end - start) / SECONDS_PER_HOUR;

  const gridHours = value('gridHours');
  if (gridHours !== undefined) {
    const seconds = gridHours * SECONDS_PER_HOUR;
    // Anchors are written to the second.
    if (Math.abs(seconds - Math.round(seconds)) > 1e-6) {
      problems.push({
        field: 'tasks.gridHours',
        rule: 'must be a whole number of seconds (gridHours × 3600 an integer)',
      });
    } else if (Math.round(seconds) < 1) {
      // Rounded to 0 seconds, the grid would never advance.
      problems.push({ field: 'tasks.gridHours', rule: 'must be at least 1 second (1/3600 hours)' });
    } else if (given.gridHours !== undefined && gridHours > windowHours) {
      // Only a given value: the default (12 h) must not refuse the short windows that are valid
      // otherwise; they get change anchors only.
      problems.push({
        field: 'tasks.gridHours',
        rule: `must be at most the window from start to end (${windowHours} hours)`,
      });
    }
  }

  const defaults = defaultSplitBoundaries(start, end);
  const boundary = (key: 'valFrom' | 'testFrom'): { at: number; text: string; given: boolean } | undefined => {
    const text = value(key);
    if (text === undefined) return undefined;
    if (text === null) return { at: defaults[key], text: `default ${formatUtcTimestamp(defaults[key])}`, given: false };
    const at = parseUtcTimestamp(text);
    if (at === undefined) {
      problems.push({ field: `tasks.${key}`, rule: `must be a real calendar time (got ${JSON.stringify(text)})` });
      return undefined;
    }
    return { at, text, given: true };
  };
  const valFrom = boundary('valFrom');
  const testFrom = boundary('testFrom');
  if (valFrom?.given && valFrom.at <= start) {
    problems.push({
      field: 'tasks.valFrom',
      rule: `must be after start (${formatUtcTimestamp(start)}): start < valFrom <= testFrom < end`,
    });
  }
  if (testFrom?.given && testFrom.at >= end) {
    problems.push({
      field: 'tasks.testFrom',
      rule: `must be before end (${formatUtcTimestamp(end)}): start < valFrom <= testFrom < end`,
    });
  }
  if (valFrom && testFrom && valFrom.at > testFrom.at) {
    // Name the field the user gave (the defaults are ordered); testFrom when both were given.
    if (testFrom.given) {
      problems.push({
        field: 'tasks.testFrom',
        rule: `must be at or after tasks.valFrom (${valFrom.text}): start < valFrom <= testFrom < end`,
      });
    } else {
      problems.push({
        field: 'tasks.valFrom',
        rule: `must be at or before tasks.testFrom (${testFrom.text}): start < valFrom <= testFrom < end`,
      });
    }
  }
  return problems;
}
