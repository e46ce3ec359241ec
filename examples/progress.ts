/**
 * A progress line for the demo: on a TTY one line rewritten in place a few times a second; on
 * anything else (CI logs, a pipe) a plain line at every 10 %, so logs stay short.
 */

/** A byte-count progress line with a rate; `add()` as bytes complete, `finish()` once. */
export class Progress {
  private readonly tty: boolean;
  private readonly timer: NodeJS.Timeout | null = null;
  private readonly started = performance.now();
  private lastDecile = -1;
  done = 0;

  constructor(private readonly label: string, private readonly total: number, private readonly out: NodeJS.WriteStream = process.stdout) {
    this.tty = Boolean(out.isTTY);
    // unref(): the progress line must never be what keeps the process alive.
    if (this.tty) this.timer = setInterval(() => this.draw(), 100).unref();
  }

  /** Adds `n` bytes done; off a TTY, prints a line when a new 10 % step is reached. */
  add(n: number): void {
    this.done += n;
    if (this.tty) return;
    const decile = Math.floor((this.done / this.total) * 10);
    if (decile > this.lastDecile && decile < 10) {
      this.lastDecile = decile;
      this.out.write(`${this.text()}\n`);
    }
  }

  /** Stops updating and leaves the final state on its own line. */
  finish(): void {
    if (this.timer) clearInterval(this.timer);
    this.out.write(this.tty ? `\r${this.text()}\x1b[K\n` : `${this.text()}\n`);
  }

  private draw(): void {
    this.out.write(`\r${this.text()}\x1b[K`);
  }

  private text(): string {
    const seconds = (performance.now() - this.started) / 1000;
    const pct = this.total ? (100 * this.done) / this.total : 100;
    const rate = seconds > 0 ? this.done / 1e6 / seconds : 0;
    return `${this.label} ${mib(this.done)} / ${mib(this.total)} MiB  ${pct.toFixed(0).padStart(3)} %  ${rate.toFixed(1)} MB/s`;
  }
}

/** Bytes as MiB with one decimal. */
export function mib(bytes: number): string {
  return (bytes / (1024 * 1024)).toFixed(1);
}
