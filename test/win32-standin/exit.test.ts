/**
 * A process (or worker) with a Win32 device open ends promptly however it ends: the harvester's
 * blocked GetQueuedCompletionStatusEx holds a libuv thread, and Node joins those threads at exit.
 * Each case runs in a child (fixtures/exit-with-device-open.ts); the bound only catches a hang.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import * as assert from 'uvu/assert';
import { STANDIN_DIR } from './build.js';
import { standinSuite } from './helpers.js';

const test = standinSuite('win32 device: exit with a device open');
const HANG_BOUND_MS = 30_000;

function runChild(mode: string) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(STANDIN_DIR, 'fixtures/exit-with-device-open.ts'), mode],
    { encoding: 'utf8', timeout: HANG_BOUND_MS });
  assert.is(r.signal, null, `the child hung with a device open and was killed: ${r.stderr}`);
  assert.ok(r.stdout.startsWith('open'), `the device was opened: ${r.stdout} ${r.stderr}`);
  return r;
}

test('process.exit() with a device open and a request pending exits with its code', () => {
  assert.is(runChild('exit').status, 3);
});

test('an uncaught exception with a device open ends the process with status 1 and the error', () => {
  const r = runChild('throw');
  assert.is(r.status, 1);
  assert.match(r.stderr, 'uncaught on purpose');
});

test('worker.terminate() of a worker with a device open completes', () => {
  const r = runChild('worker');
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout.trim().split('\n').pop(), 'terminated');
});

test('watcher.close() then process.exit() while a notification is being delivered exits', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(STANDIN_DIR, 'fixtures/watch-close-exit.ts')],
    { encoding: 'utf8', timeout: HANG_BOUND_MS });
  assert.is(r.signal, null, `the child deadlocked and was killed: ${r.stdout} ${r.stderr}`);
  assert.is(r.stdout.trim(), 'delivering');
  assert.is(r.status, 0, r.stderr);
});

test('a process ending by itself while a notification is being delivered exits 0, not SIGSEGV (issue 11 item 7)', () => {
  // The koffi path of benchmarks/koffi-vs-direct.ts, with the stand-in's notifier thread kept busy
  // during teardown (1 s at most: the child's exit cuts it short). Unpinned, the stand-in was
  // unloaded by koffi under that thread every time.
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(STANDIN_DIR, 'fixtures/exit-during-notification.ts'), '1000000'],
    { encoding: 'utf8', timeout: HANG_BOUND_MS });
  assert.is(r.signal, null, `the child died with ${r.signal}: ${r.stderr}`);
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout.trim(), 'done 256');
});

test.run();
