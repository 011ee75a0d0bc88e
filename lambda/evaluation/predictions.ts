import { InputProblemsError, ProblemList } from './problem-list.js';
import { TimestampReader } from './timestamp-reader.js';

export const PREDICTION_COLUMNS = ['user_id', 'anchor_time', 'probability'] as const;

/** A prediction and the line of the file it came from. */
export interface Prediction {
  probability: number;
  line: number;
}

/** Predictions keyed by `predictionKey(userId, anchorTime)`. */
export type Predictions = Map<string, Prediction>;

export const predictionKey = (userId: number, anchorTime: string): string => `${userId} at ${anchorTime}`;

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const USER_ID = /^\d{1,15}(\.0*)?$/;
// The task file's form, and pandas' default (space, optional "+00:00").
const ANCHOR_TIME = /^(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d:\d\d)(Z|\+00:00)?$/;

/**
 * Parses a predictions CSV: a header naming user_id, anchor_time and probability (in any order;
 * other columns ignored), then a row per prediction. anchor_time is the task file's
 * `YYYY-MM-DDTHH:MM:SSZ`, or the same with a space and no zone or `+00:00` (as pandas writes it).
 * Throws InputProblemsError listing every bad line (capped per kind).
 */
export function parsePredictions(text: string): Predictions {
  const lines = (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text).split('\n');
  const problems = new ProblemList();
  if (lines.every((l) => l.trim() === '')) {
    throw new InputProblemsError('invalid predictions', [
      { field: '(file)', rule: `is empty: expected the header ${PREDICTION_COLUMNS.join(',')} and a row per task row` },
    ]);
  }
  const headerLine = lines[0].replace(/\r$/, '');
  const header = headerLine.split(',').map(unquote);
  const index = PREDICTION_COLUMNS.map((c) => header.indexOf(c));
  const missing = PREDICTION_COLUMNS.filter((_, i) => index[i] < 0);
  if (missing.length > 0) {
    const rule = `must name the columns ${PREDICTION_COLUMNS.join(', ')}; missing ${missing.join(', ')} (line 1 is ${JSON.stringify(headerLine.slice(0, 200))})`;
    throw new InputProblemsError('invalid predictions', [{ field: 'header', rule }]);
  }
  const [userColumn, timeColumn, probabilityColumn] = index;
  const predictions: Predictions = new Map();
  const time = new TimestampReader();
  for (let i = 1; i < lines.length; i++) {
    const text = lines[i].endsWith('\r') ? lines[i].slice(0, -1) : lines[i];
    if (text.trim() === '') continue;
    const line = i + 1;
    const field = `line ${line}`;
    const fields = text.split(',').map(unquote);
    if (fields.length !== header.length) {
      problems.add('lines with the wrong number of fields', {
        field,
        rule: `has ${fields.length} fields, the header ${header.length}`,
      });
      continue;
    }
    const [userText, timeText, probabilityText] = [fields[userColumn], fields[timeColumn], fields[probabilityColumn]];
    const anchorTime = canonicalAnchorTime(timeText, time);
    let ok = true;
    if (!USER_ID.test(userText)) {
      problems.add('bad user ids', { field, rule: `user_id ${JSON.stringify(userText)} is not a whole number` });
      ok = false;
    }
    if (anchorTime === undefined) {
      problems.add('bad anchor times', {
        field,
        rule: `anchor_time ${JSON.stringify(timeText)} is not a UTC time YYYY-MM-DDTHH:MM:SSZ`,
      });
      ok = false;
    }
    const probability = DECIMAL.test(probabilityText) ? Number(probabilityText) : Number.NaN;
    if (!Number.isFinite(probability)) {
      problems.add('non-numeric probabilities', {
        field,
        rule: `probability ${JSON.stringify(probabilityText)} is not a number`,
      });
      ok = false;
    } else if (probability < 0 || probability > 1) {
      problems.add('probabilities outside [0, 1]', { field, rule: `probability ${probabilityText} is outside [0, 1]` });
      ok = false;
    }
    if (!ok || anchorTime === undefined) continue;
    const key = predictionKey(Number(userText), anchorTime);
    const first = predictions.get(key);
    if (first) problems.add('duplicate rows', { field, rule: `user ${key} again (first on line ${first.line})` });
    else predictions.set(key, { probability, line });
  }
  if (!problems.empty) throw new InputProblemsError('invalid predictions', problems.list());
  return predictions;
}

function canonicalAnchorTime(text: string, time: TimestampReader): string | undefined {
  const m = ANCHOR_TIME.exec(text);
  if (!m) return undefined;
  const canonical = `${m[1]}T${m[2]}Z`;
  return time.read(canonical) === undefined ? undefined : canonical;
}

/** A field without surrounding whitespace and double quotes (as some CSV writers quote). */
function unquote(field: string): string {
  const last = field.length - 1;
  if (last >= 0 && field.charCodeAt(0) > 32 && field.charCodeAt(last) > 32 && field[0] !== '"') return field;
  const trimmed = field.trim();
  return trimmed.length >= 2 && trimmed.startsWith('"') && trimmed.endsWith('"') ? trimmed.slice(1, -1) : trimmed;
}
