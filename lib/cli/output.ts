/**
 * How a command talks to its user: results on stdout (text, or one JSON document with --json),
 * notes and progress on stderr (JSON lines with --json), errors in both forms.
 */
import type { Readable, Writable } from 'node:stream';

/** The process streams a command uses (replaceable so commands stay testable). */
export interface CliIO {
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable & { isTTY?: boolean };
  stdin: Readable;
  env: NodeJS.ProcessEnv;
  platform: NodeJS.Platform;
  /** Aborted on SIGINT/SIGTERM. */
  signal: AbortSignal;
}

/** Output for one command run. */
export class Output {
  private lastProgress = 0;

  constructor(
    readonly io: CliIO,
    readonly json: boolean,
  ) {}

  /** The command's result: `text` lines, or `data` as JSON. */
  result(data: unknown, text: string | string[]): void {
    if (this.json) this.io.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
    else this.io.stdout.write(`${Array.isArray(text) ? text.join('\n') : text}\n`);
  }

  /** A note for the human (stderr): an event, a state change. */
  note(text: string, data?: Record<string, unknown>): void {
    if (this.json) this.io.stderr.write(`${JSON.stringify({ note: text, ...data })}\n`);
    else this.io.stderr.write(`${text}\n`);
  }

  /** Progress of long work: redrawn in place on a terminal, every 10% otherwise. */
  progress(label: string, done: number, total: number): void {
    const percent = total > 0 ? Math.floor((done / total) * 100) : 100;
    const text = `${label}: ${percent}% (${mib(done)} of ${mib(total)} MiB)`;
    if (!this.json && this.io.stderr.isTTY) {
      this.io.stderr.write(`\r${text}${percent === 100 ? '\n' : ''}`);
      return;
    }
    if (percent < this.lastProgress + 10 && percent !== 100) return;
    this.io.stderr.write(this.json ? `${JSON.stringify({ progress: label, done, total, percent })}\n` : `${text}\n`);
    this.lastProgress = percent === 100 ? 0 : percent;
  }

  /** A failure: `usbfn: message` and the hint on stderr, or `{ error }` on stdout with --json. */
  error(failure: { code: string; message: string; hint?: string; exitCode: number }): void {
    if (this.json) this.io.stdout.write(`${JSON.stringify({ error: failure }, null, 2)}\n`);
    else this.io.stderr.write(`usbfn: ${failure.message}\n${failure.hint ? `  next: ${failure.hint}\n` : ''}`);
  }
}

function mib(n: number): string {
  return (n / (1024 * 1024)).toFixed(1);
}
