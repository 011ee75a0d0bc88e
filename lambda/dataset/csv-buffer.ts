import { civilFromDays } from '../time/utc-timestamp.js';

const COMMA = 0x2c;
const ZERO = 0x30;

/**
 * CSV bytes built in place: integers, ASCII text and timestamps are written straight into a
 * buffer, so tens of millions of rows cost no per-row strings (and no garbage collection).
 */
export class CsvBuffer {
  private buf: Buffer;
  private readonly digits = new Uint8Array(20);
  private day = Number.NaN;
  private readonly datePrefix = Buffer.alloc(11);
  length = 0;

  constructor(private readonly capacity = 1 << 20) {
    this.buf = Buffer.allocUnsafe(capacity);
  }

  /** Makes room for `n` more bytes. */
  reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.length + n));
    this.buf.copy(grown, 0, 0, this.length);
    this.buf = grown;
  }

  /** Hands out the bytes written so far and starts a fresh buffer. */
  take(): Buffer {
    const out = this.buf.subarray(0, this.length);
    this.buf = Buffer.allocUnsafe(this.capacity);
    this.length = 0;
    return out;
  }

  comma(): void {
    this.buf[this.length++] = COMMA;
  }

  eol(): void {
    this.buf[this.length++] = 0x0d;
    this.buf[this.length++] = 0x0a;
  }

  /** ASCII text (callers pass only short, comma-free strings). */
  ascii(text: string): void {
    for (let i = 0; i < text.length; i++) this.buf[this.length++] = text.charCodeAt(i);
  }

  /** A non-negative integer in decimal, at least `minDigits` digits (zero-padded). */
  uint(value: number, minDigits = 1): void {
    let n = value;
    let k = 0;
    for (; n > 0x7fffffff; n = Math.floor(n / 10)) this.digits[k++] = ZERO + (n % 10);
    do {
      const q = (n / 10) | 0;
      this.digits[k++] = ZERO + (n - q * 10);
      n = q;
    } while (n > 0);
    while (k < minDigits) this.digits[k++] = ZERO;
    while (k > 0) this.buf[this.length++] = this.digits[--k];
  }

  /** Epoch seconds as `YYYY-MM-DDTHH:MM:SSZ`; the date part is cached per day. */
  timestamp(epochSeconds: number): void {
    const day = Math.floor(epochSeconds / 86400);
    if (day !== this.day) this.setDay(day);
    this.datePrefix.copy(this.buf, this.length);
    this.length += 11;
    let s = epochSeconds - day * 86400;
    const h = (s / 3600) | 0;
    s -= h * 3600;
    const m = (s / 60) | 0;
    s -= m * 60;
    this.twoDigits(h);
    this.buf[this.length++] = 0x3a;
    this.twoDigits(m);
    this.buf[this.length++] = 0x3a;
    this.twoDigits(s);
    this.buf[this.length++] = 0x5a;
  }

  private setDay(day: number): void {
    this.day = day;
    const { year, month, dayOfMonth } = civilFromDays(day);
    const p = this.datePrefix;
    p[0] = ZERO + ((year / 1000) | 0);
    p[1] = ZERO + (((year / 100) | 0) % 10);
    p[2] = ZERO + (((year / 10) | 0) % 10);
    p[3] = ZERO + (year % 10);
    p[4] = 0x2d;
    p[5] = ZERO + ((month / 10) | 0);
    p[6] = ZERO + (month % 10);
    p[7] = 0x2d;
    p[8] = ZERO + ((dayOfMonth / 10) | 0);
    p[9] = ZERO + (dayOfMonth % 10);
    p[10] = 0x54;
  }

  private twoDigits(n: number): void {
    const tens = (n / 10) | 0;
    this.buf[this.length++] = ZERO + tens;
    this.buf[this.length++] = ZERO + n - tens * 10;
  }
}
