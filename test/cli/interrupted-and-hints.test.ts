/**
 * Ctrl-C during an emulated loopback or bench is exit 130 (interrupted), not a crash from the
 * host transfer the abort rejected; and every failure says what to do next (README: "Errors say
 * what to do next"), on Linux too.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runInProcess } from './helpers.js';

/** Runs the command, aborting it once its stderr shows `phase`. */
async function interruptedAt(args: string[], phase: string) {
  const stop = new AbortController();
  return runInProcess([...args, '--json'], { signal: stop.signal, onStderr: (text) => text.includes(phase) && stop.abort() });
}

test('loopback --emulate interrupted while both directions run: exit 130, an error document', async () => {
  const r = await interruptedAt(['loopback', '--emulate', '--bytes', '1G'], '"progress":"echoed"');
  assert.is(r.code, 130);
  assert.is((JSON.parse(r.stdout) as { error: { exitCode: number } }).error.exitCode, 130);
});

test('bench --emulate interrupted in either direction: exit 130', async () => {
  for (const phase of ['"progress":"host-to-device"', '"progress":"device-to-host"']) {
    const r = await interruptedAt(['bench', '--emulate', '--bytes', '256M', '--chunk', '64k'], phase);
    assert.is(r.code, 130, phase);
  }
});

test('a missing --ffs mount (exit 4) is told to check the mount point, not only a Windows GUID', async () => {
  const r = await runInProcess(['info', '--ffs', '/nonexistent/usbfn-mount']);
  assert.is(r.code, 4);
  assert.match(r.stderr, /next: .*--ffs/);
});

test('a failure without a specific hint still says what to do next (the debug log)', async () => {
  const r = await runInProcess(['emulate', 'test/cli/fixtures/uncoded-failure.mjs']);
  assert.is(r.code, 1);
  assert.match(r.stderr, /next: .*DEBUG=usbfn:\*/);
});

test.run();
