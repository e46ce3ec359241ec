/** `usbfn emulate <script>` runs a user's device script against the emulated host. */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { jsonOf, runInProcess, spawnCli } from './helpers.js';

const test = suite('usbfn emulate');
const fixture = (name: string) => `test/cli/fixtures/${name}`;

test('the spawned command runs an echo device script to completion (exit 0) and shows its log', async () => {
  const r = await spawnCli(['emulate', fixture('echo-device.mjs')]);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /host got ping/);
});

test('a script exporting its own description gets that interface, at --speed', async () => {
  const r = await runInProcess(['emulate', fixture('serial-device.mjs'), '--speed', 'full']);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /pipes 83,81,2 at full speed/);
});

test('a failing script exits 1 with its message and error code', async () => {
  const r = await runInProcess(['emulate', fixture('failing-device.mjs'), '--json']);
  assert.is(r.code, 1);
  const error = jsonOf(r).error as { message: string; hint: string };
  assert.match(error.message, /the device script failed: the register read back 0x00/);
  assert.match(error.hint, /MY_DEVICE_CHECK/);
});

test('no script, a missing file, or no default export: usage errors (exit 2)', async () => {
  assert.is((await runInProcess(['emulate'])).code, 2);
  const missing = await runInProcess(['emulate', fixture('nope.mjs')]);
  assert.is(missing.code, 2);
  assert.match(missing.stderr, /no script at/);
  const noDefault = await runInProcess(['emulate', fixture('no-default.mjs')]);
  assert.is(noDefault.code, 2);
  assert.match(noDefault.stderr, /no default export function/);
});

test.run();
