/**
 * Shared by test/wine's own cases (behaviours only the Wine path can break): a uvu suite that
 * is registered as skipped, with the reason printed, wherever the Wine backend cannot run (every
 * `npm test` on Linux), and a configured stack with its pipe ids.
 */
import { suite, type Test } from 'uvu';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BackendStack } from '../backends.js';
import { acquireServer, releaseServer, wineBackend } from './backend.js';
import type { BrokerServer } from './server.js';
import { BULK_IN, BULK_OUT, configured, pipeIdOf } from '../contract/helpers.js';

export { BULK_IN, BULK_OUT };

/** A suite of Wine-only tests; `body` registers them with `it`. */
export function wineSuite(name: string, body: (it: (title: string, fn: () => Promise<void>) => void) => void): void {
  const test: Test = suite(`wine: ${name}`);
  if (wineBackend.skip) console.log(`skipping the Wine-only case "${name}": ${wineBackend.skip}`);
  body((title, fn) => (wineBackend.skip ? test.skip : test)(title, fn));
  test.run();
}

/** A wine stack, activated and configured by the host at high speed, and its bulk pipe ids. */
export async function configuredStack(): Promise<{ s: BackendStack; outId: number; inId: number }> {
  const s = await wineBackend.create();
  try {
    await configured(s);
    return { s, outId: await pipeIdOf(s, BULK_OUT), inId: await pipeIdOf(s, BULK_IN) };
  } catch (err) {
    await s.close();
    throw err;
  }
}

/** Runs `body` with this process's broker server held and a configured stack; closes both after. */
export async function withServedStack(
  body: (x: { server: BrokerServer; s: BackendStack; outId: number; inId: number }) => Promise<void>,
): Promise<void> {
  const server = await acquireServer();
  try {
    const stack = await configuredStack();
    try {
      await body({ server, ...stack });
    } finally {
      await stack.s.close();
    }
  } finally {
    await releaseServer();
  }
}

export interface ChildRun {
  /** Resolves when the child printed a line starting with `prefix`. */
  line(prefix: string): Promise<string>;
  exited: Promise<{ code: number | null; signal: string | null; hung: boolean; output: string }>;
  kill(): void;
}

/**
 * Starts test/wine/fixtures/<name>.js (compiled: this only runs under `npm run test:wine`) in
 * another node.exe; it serves its own devices on the next free broker channel. `boundMs` only
 * catches a hang (the child is then killed and `hung` set).
 */
export function runChild(name: string, args: string[], boundMs = 60_000): ChildRun {
  const file = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', `${name}.js`);
  const child = spawn(process.execPath, [file, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const waiters: { prefix: string; resolve: (l: string) => void }[] = [];
  const onData = (d: Buffer) => {
    output += d;
    for (const w of [...waiters]) {
      const l = output.split(/\r?\n/).find((x) => x.startsWith(w.prefix));
      if (l !== undefined) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(l);
      }
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  let hung = false;
  const timer = setTimeout(() => {
    hung = true;
    child.kill('SIGKILL');
  }, boundMs);
  const exited = new Promise<{ code: number | null; signal: string | null; hung: boolean; output: string }>((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, hung, output });
    });
  });
  return {
    line: (prefix) => new Promise((resolve, reject) => {
      waiters.push({ prefix, resolve });
      onData(Buffer.alloc(0));
      void exited.then((r) => reject(new Error(`child ended before printing "${prefix}": ${r.output}`)));
    }),
    exited,
    kill: () => child.kill('SIGKILL'),
  };
}
