#!/usr/bin/env node
/**
 * The `usbfn` executable (package.json "bin"): runs with plain node from dist/, or through tsx
 * from lib/. SIGINT/SIGTERM abort the running command, which closes its device and exits with
 * its own code; a second signal exits at once.
 */
import { readFileSync } from 'node:fs';
import { runCli } from './run.js';

function packageVersion(): string {
  for (const up of ['../../package.json', '../../../package.json']) {
    try {
      return (JSON.parse(readFileSync(new URL(up, import.meta.url), 'utf8')) as { version: string }).version;
    } catch {
      // lib/cli/main.ts is two levels down, dist/lib/cli/main.js three
    }
  }
  return 'unknown';
}

const stop = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stop.signal.aborted) process.exit(130);
    stop.abort(new Error(signal));
  });
}

const code = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
  platform: process.platform,
  signal: stop.signal,
}, packageVersion());
process.exitCode = code;
// A command that leaves stdin paused or a socket half-closed must not keep the process alive.
process.stdin.unref?.();
setImmediate(() => process.exit(code)).unref();
