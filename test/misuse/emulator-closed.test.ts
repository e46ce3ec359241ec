/**
 * Closing the emulator under an open device (directly, or by closing another device that shares
 * it) closes the device cleanly: 'close', no 'error', no uncaught ERROR_OPERATION_ABORTED (995)
 * from the cancelled bus-event wait. Run in a child process, where a crash shows as an exit code.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { GenericUsbFnDriver, UsbFnDevice } from '../../lib/index.js';
import { EmulatedGenericUsbFn } from '../../lib/driver/emulator/index.js';

const fixture = fileURLToPath(new URL('../fixtures/emulator-closed-under-device.ts', import.meta.url));

function run(mode: 'emulator' | 'sibling'): { status: number | null; out: Record<string, unknown> | null; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', fixture, mode], { encoding: 'utf8', timeout: 60_000 });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  return { status: r.status, out: line.startsWith('{') ? JSON.parse(line) : null, stderr: r.stderr };
}

test('emulator.close() under an open device: the device closes cleanly and the process exits 0', () => {
  const r = run('emulator');
  assert.is(r.status, 0, r.stderr);
  assert.equal(r.out, { a: ['close'], aClosed: true, state: 'configured' });
});

test('two devices on one emulator, one closes: the other closes cleanly, no crash', () => {
  const r = run('sibling');
  assert.is(r.status, 0, r.stderr);
  assert.equal(r.out, { a: ['close'], b: ['close'], aClosed: true });
});

test('the driver closed directly under an open device: the device closes too (it no longer sits open and deaf)', async () => {
  const emu = new EmulatedGenericUsbFn();
  const driver = new GenericUsbFnDriver(emu);
  const device = await UsbFnDevice.open({ driver });
  const errors: unknown[] = [];
  device.on('error', (err) => errors.push(err));
  const closed = new Promise((resolve) => device.once('close', () => resolve(undefined)));
  await driver.close();
  await closed;
  assert.ok(device.closed);
  assert.equal(errors, []);
});

test.run();
