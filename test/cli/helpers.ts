/**
 * Running the `usbfn` command in tests: spawned as a real process (node + tsx on lib/cli/main.ts:
 * exit codes, stdio, signals) or in process through runCli with captured streams (fast, for the
 * many error cases). Both bounded by generous hang guards, never by expected durations.
 */
import { spawn } from 'node:child_process';
import { PassThrough } from 'node:stream';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from '../../lib/cli/run.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const MAIN = path.join(root, 'lib/cli/main.ts');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  stdoutBytes: Buffer;
}

/** Spawns `usbfn args…`; `input` is written to stdin, then stdin ends. Killed after `guardMs`. */
export function spawnCli(args: string[], options: { input?: Buffer | string; env?: NodeJS.ProcessEnv; guardMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { cwd: root, env: { ...process.env, ...options.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    const guard = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`usbfn ${args.join(' ')} still running after ${options.guardMs ?? 120000} ms; stderr: ${Buffer.concat(err).toString()}`));
    }, options.guardMs ?? 120000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(guard);
      const stdoutBytes = Buffer.concat(out);
      resolve({ code, stdout: stdoutBytes.toString(), stderr: Buffer.concat(err).toString(), stdoutBytes });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}

/** Runs `usbfn args…` in this process with captured stdio; `platform` and `env` are what the command sees. */
export async function runInProcess(
  args: string[],
  options: { platform?: NodeJS.Platform; env?: NodeJS.ProcessEnv; input?: string; signal?: AbortSignal; onStderr?: (text: string) => void } = {},
): Promise<CliResult> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  let errText = '';
  stdout.on('data', (d: Buffer) => out.push(d));
  stderr.on('data', (d: Buffer) => {
    errText += d.toString();
    options.onStderr?.(errText);
  });
  const stdin = new PassThrough();
  stdin.end(options.input ?? '');
  const code = await runCli(args, {
    stdout,
    stderr,
    stdin,
    env: options.env ?? {},
    platform: options.platform ?? 'linux',
    signal: options.signal ?? new AbortController().signal,
  }, '9.9.9');
  const stdoutBytes = Buffer.concat(out);
  return { code, stdout: stdoutBytes.toString(), stderr: errText, stdoutBytes };
}

/** The JSON document a --json run printed on stdout. */
export function jsonOf(r: CliResult): Record<string, unknown> {
  try {
    return JSON.parse(r.stdout) as Record<string, unknown>;
  } catch {
    throw new Error(`stdout is not JSON (exit ${r.code}): ${r.stdout}\nstderr: ${r.stderr}`);
  }
}
