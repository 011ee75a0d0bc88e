import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ProgressBar } from '../lambda/cli/progress-bar.js';

function fakeStream(isTTY: boolean): { stream: NodeJS.WriteStream; written: string[] } {
  const written: string[] = [];
  const stream = { isTTY, write: (text: string) => written.push(text) > 0 } as unknown as NodeJS.WriteStream;
  return { stream, written };
}

describe('ProgressBar', () => {
  beforeEach(() => vi.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => vi.useRealTimers());

  it('stays silent during the first half second, then draws done/total and a percentage', () => {
    const { stream, written } = fakeStream(true);
    const bar = new ProgressBar('generating', stream);
    bar.update(10, 100);
    expect(written).toEqual([]);
    vi.advanceTimersByTime(600);
    bar.update(25, 100);
    expect(written).toHaveLength(1);
    expect(written[0]).toMatch(/^\rgenerating \[#{8}-{22}\] {2}25% 25\/100 users/);
    bar.clear();
    expect(written[1]).toBe('\r\x1b[2K');
  });

  it('redraws at most every 100 ms', () => {
    const { stream, written } = fakeStream(true);
    const bar = new ProgressBar('generating', stream);
    vi.advanceTimersByTime(600);
    bar.update(1, 10);
    bar.update(2, 10);
    vi.advanceTimersByTime(150);
    bar.update(3, 10);
    expect(written.map((w) => /(\d+)\/10/.exec(w)?.[1])).toEqual(['1', '3']);
  });

  it('never writes when stderr is not a terminal', () => {
    const { stream, written } = fakeStream(false);
    const bar = new ProgressBar('generating', stream);
    vi.advanceTimersByTime(5000);
    bar.update(50, 100);
    bar.clear();
    expect(written).toEqual([]);
  });
});
