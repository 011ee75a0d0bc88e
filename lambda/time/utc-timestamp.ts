/** Whole-second UTC timestamps in the one format the datasets use: `YYYY-MM-DDTHH:MM:SSZ`. */

export const TIMESTAMP_PATTERN = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z$/;

/** Epoch seconds of a timestamp, or undefined when it is malformed or not a real calendar time. */
export function parseUtcTimestamp(text: string): number | undefined {
  const m = TIMESTAMP_PATTERN.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1).map(Number);
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) return undefined;
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  // Date.UTC maps years 0..99 to 1900..1999; rebuild to reject those and impossible days (Feb 30).
  return formatUtcTimestamp(ms / 1000) === text ? ms / 1000 : undefined;
}

const pad2 = (n: number): string => (n < 10 ? '0' : '') + n;

/** Formats epoch seconds (whole) as `YYYY-MM-DDTHH:MM:SSZ`. */
export function formatUtcTimestamp(epochSeconds: number): string {
  const d = new Date(epochSeconds * 1000);
  return (
    String(d.getUTCFullYear()).padStart(4, '0') +
    '-' + pad2(d.getUTCMonth() + 1) + '-' + pad2(d.getUTCDate()) +
    'T' + pad2(d.getUTCHours()) + ':' + pad2(d.getUTCMinutes()) + ':' + pad2(d.getUTCSeconds()) + 'Z'
  );
}

/**
 * A fast formatter for many timestamps within one window: the date part is cached per day,
 * the clock part built from the seconds of the day.
 */
export class TimestampFormatter {
  private day = Number.NaN;
  private datePrefix = '';

  format(epochSeconds: number): string {
    const day = Math.floor(epochSeconds / 86400);
    if (day !== this.day) {
      this.day = day;
      this.datePrefix = formatUtcTimestamp(day * 86400).slice(0, 11);
    }
    let s = epochSeconds - day * 86400;
    const h = (s / 3600) | 0;
    s -= h * 3600;
    const m = (s / 60) | 0;
    s -= m * 60;
    return this.datePrefix + pad2(h) + ':' + pad2(m) + ':' + pad2(s) + 'Z';
  }
}
