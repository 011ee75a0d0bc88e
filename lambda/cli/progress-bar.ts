/** A one-line progress bar on stderr, shown only on a TTY and only once a run takes over half a second. */
export class ProgressBar {
  private readonly startedAt = Date.now();
  private lastDraw = 0;
  private drawn = false;

  constructor(
    private readonly label: string,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {}

  update(done: number, total: number): void {
    const now = Date.now();
    if (!this.stream.isTTY || now - this.startedAt < 500 || now - this.lastDraw < 100) return;
    this.lastDraw = now;
    const fraction = total > 0 ? done / total : 1;
    const width = 30;
    const filled = Math.round(fraction * width);
    const elapsed = (now - this.startedAt) / 1000;
    const eta = fraction > 0 ? elapsed / fraction - elapsed : 0;
    this.stream.write(
      `\r${this.label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}% ` +
        `${done}/${total} users, ${elapsed.toFixed(1)}s elapsed, ~${eta.toFixed(0)}s left `,
    );
    this.drawn = true;
  }

  clear(): void {
    if (this.drawn) this.stream.write('\r\x1b[2K');
    this.drawn = false;
  }
}
