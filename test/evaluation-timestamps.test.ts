import { describe, expect, it } from 'vitest';
import { TimestampReader } from '../lambda/evaluation/timestamp-reader.js';
import { parseUtcTimestamp } from '../lambda/time/utc-timestamp.js';

describe('TimestampReader', () => {
  it('agrees with parseUtcTimestamp on valid and invalid timestamps, a date seen twice included', () => {
    const reader = new TimestampReader();
    const texts = [
      '2025-03-01T00:00:00Z',
      '2025-03-01T23:59:59Z',
      '2025-03-01T12:34:56Z',
      '2024-02-29T01:02:03Z',
      '1000-01-01T00:00:00Z',
      '2025-02-29T00:00:00Z',
      '2025-02-30T12:00:00Z',
      '2025-03-01T24:00:00Z',
      '2025-03-01T12:60:00Z',
      '2025-03-01T12:00:60Z',
      '2025-03-01 12:00:00Z',
      '2025-03-01T12:00:00',
      '2025-03-01T1a:00:00Z',
      '2025-03-01T12:00:00+00',
      '',
      '2025-3-01T12:00:00Z',
    ];
    for (const text of [...texts, ...texts]) expect(reader.read(text), text).toBe(parseUtcTimestamp(text));
  });
});
