import { parseUtcTimestamp } from '../time/utc-timestamp.js';

const DIGIT = /^\d\d$/;

/**
 * Epoch seconds of `YYYY-MM-DDTHH:MM:SSZ` timestamps, fast on files of millions of them: the
 * date's day is parsed (and validated) once per distinct date, the time of day by arithmetic.
 * Undefined for anything parseUtcTimestamp refuses.
 */
export class TimestampReader {
  private readonly days = new Map<string, number | undefined>();

  read(text: string): number | undefined {
    if (text.length !== 20 || text[10] !== 'T' || text[13] !== ':' || text[16] !== ':' || text[19] !== 'Z')
      return undefined;
    const date = text.slice(0, 10);
    let day = this.days.get(date);
    if (day === undefined && !this.days.has(date)) {
      day = parseUtcTimestamp(`${date}T00:00:00Z`);
      this.days.set(date, day);
    }
    const [hh, mm, ss] = [text.slice(11, 13), text.slice(14, 16), text.slice(17, 19)];
    if (day === undefined || !DIGIT.test(hh) || !DIGIT.test(mm) || !DIGIT.test(ss)) return undefined;
    const [h, m, s] = [Number(hh), Number(mm), Number(ss)];
    if (h > 23 || m > 59 || s > 59) return undefined;
    return day + h * 3600 + m * 60 + s;
  }
}
