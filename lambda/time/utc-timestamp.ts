/** Whole-second UTC timestamps in the one format the datasets use: `YYYY-MM-DDTHH:MM:SSZ`. */

export const TIMESTAMP_PATTERN = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z$/;

/** Epoch seconds of a timestamp, or undefined when it is malformed or not a real calendar time. */
export function parseUtcTimestamp(text: string): number | undefined {
  const m = TIMESTAMP_PATTERN.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1).map(Number);
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) return undefined;
  const date = new Date(Date.UTC(2000, month - 1, day, hour, minute, second));
  date.setUTCFullYear(year); // Date.UTC alone would map years 0..99 to 1900..1999
  const seconds = date.getTime() / 1000;
  // Impossible days (Feb 30) roll over into another date: refuse them.
  return formatUtcTimestamp(seconds) === text ? seconds : undefined;
}

/** Epoch seconds of a timestamp already validated (a parsed config's, a manifest's): malformed text is a bug. */
export function utcTimestampSeconds(text: string): number {
  const seconds = parseUtcTimestamp(text);
  if (seconds === undefined) throw new Error(`not a UTC timestamp YYYY-MM-DDTHH:MM:SSZ: ${JSON.stringify(text)}`);
  return seconds;
}

const pad2 = (n: number): string => (n < 10 ? '0' : '') + String(n);

/** Formats epoch seconds (whole) as `YYYY-MM-DDTHH:MM:SSZ`. */
export function formatUtcTimestamp(epochSeconds: number): string {
  const d = new Date(epochSeconds * 1000);
  return (
    String(d.getUTCFullYear()).padStart(4, '0') +
    '-' +
    pad2(d.getUTCMonth() + 1) +
    '-' +
    pad2(d.getUTCDate()) +
    'T' +
    pad2(d.getUTCHours()) +
    ':' +
    pad2(d.getUTCMinutes()) +
    ':' +
    pad2(d.getUTCSeconds()) +
    'Z'
  );
}

/** Calendar date of a day number since 1970-01-01 (Howard Hinnant's `civil_from_days`). */
export function civilFromDays(days: number): { year: number; month: number; dayOfMonth: number } {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const dayOfMonth = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: yoe + era * 400 + (month <= 2 ? 1 : 0), month, dayOfMonth };
}
