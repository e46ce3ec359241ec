/** `usbfn loopback --emulate` echoes and verifies byte for byte, with progress on stderr. */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { jsonOf, runInProcess, spawnCli } from './helpers.js';

const test = suite('usbfn loopback');

test('the spawned command echoes 4 MiB byte-exact, reports throughput as JSON and progress on stderr', async () => {
  const r = await spawnCli(['loopback', '--emulate', '--bytes', '4M', '--chunk', '48k', '--json']);
  assert.is(r.code, 0, r.stderr);
  const result = jsonOf(r) as { bytes: number; byteExact: boolean; firstMismatch: number | null; megabytesPerSecond: number };
  assert.equal([result.bytes, result.byteExact, result.firstMismatch], [4 * 1024 * 1024, true, null]);
  assert.ok(result.megabytesPerSecond > 0);
  const progress = r.stderr.trim().split('\n').map((l) => JSON.parse(l) as { progress: string; percent: number });
  assert.ok(progress.length >= 2 && progress.every((p) => p.progress === 'echoed'));
  assert.is(progress[progress.length - 1].percent, 100);
});

test('text output says byte-exact; progress lines go to stderr, not stdout', async () => {
  const r = await runInProcess(['loopback', '--emulate', '--bytes', '256k']);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /^262144 bytes echoed byte-exact in \d+ ms/);
  assert.match(r.stderr, /echoed: 100% \(0\.3 of 0\.3 MiB\)/);
});

test('bad sizes are usage errors; no --emulate on Linux is exit 3', async () => {
  assert.is((await runInProcess(['loopback', '--emulate', '--bytes', '12q'])).code, 2);
  assert.is((await runInProcess(['loopback', '--emulate', '--chunk', '0'])).code, 2);
  assert.is((await runInProcess(['loopback'])).code, 3);
});

test.run();
