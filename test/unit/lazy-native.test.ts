/**
 * Importing usbfn or usbfn/emulator loads no native code: koffi is loaded only by the Windows
 * backend (usbfn/windows, or UsbFnDevice.open without a driver). Each import runs in a fresh
 * child process, since a module once loaded stays loaded. The packed package is checked the
 * same way by test/package (through dist, with plain node).
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const fixture = path.join(root, 'test/fixtures/native-libraries.ts');

async function nativeAfterImporting(...modules: string[]): Promise<{ inReport: boolean; inMaps: boolean | null }> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', fixture, ...modules], { cwd: root, timeout: 60_000 });
  return JSON.parse(stdout.trim().split('\n').pop()!);
}

test('importing usbfn and usbfn/emulator loads no koffi and maps no native library', async () => {
  const r = await nativeAfterImporting('lib/index.ts', 'lib/driver/emulator/index.ts');
  assert.is(r.inReport, false, 'koffi.node is among the shared objects of the process');
  assert.ok(r.inMaps !== true, 'koffi.node is in /proc/self/maps');
});

test('importing usbfn/windows does load koffi (the check can see it)', async () => {
  const r = await nativeAfterImporting('lib/windows/index.ts');
  assert.is(r.inReport, true);
  if (r.inMaps !== null) assert.is(r.inMaps, true);
});

test.run();
