// Progress on stderr: the stage and its percentage, throttled. On a terminal one line is rewritten
// in place; into a file or pipe a line is written when the stage changes and at most every few
// seconds otherwise, so logs stay short.

export interface ErrStream {
  write(s: string): unknown;
  isTTY?: boolean;
}

export class Progress {
  private stage = '';
  private last = -Infinity;
  private width = 0;
  /** Put before the stage, e.g. the sweep point. */
  prefix = '';

  constructor(
    private readonly out: ErrStream,
    private readonly enabled = true,
    private readonly interval = out.isTTY ? 100 : 2000,
    private readonly now: () => number = () => performance.now(),
  ) {}

  update(stage: string, fraction: number): void {
    if (!this.enabled) return;
    const key = this.prefix + stage;
    const t = this.now();
    if (key === this.stage && t - this.last < this.interval && fraction < 1) return;
    this.stage = key;
    this.last = t;
    const pct = Math.max(0, Math.min(100, Math.floor(fraction * 100)));
    this.write(`${key} ${pct}%`);
  }

  /** A message that stays (clears a rewritten progress line first). */
  note(message: string): void {
    if (!this.enabled) return;
    this.clear();
    this.out.write(`${message}\n`);
  }

  /** Ends the current progress line. */
  done(): void {
    this.clear();
    this.stage = '';
    this.last = -Infinity;
  }

  private write(text: string): void {
    if (this.out.isTTY) {
      this.out.write(`\r${text.padEnd(this.width)}`);
      this.width = text.length;
    } else {
      this.out.write(`${text}\n`);
    }
  }

  private clear(): void {
    if (this.out.isTTY && this.width > 0) this.out.write(`\r${' '.repeat(this.width)}\r`);
    this.width = 0;
  }
}
