/**
 * The emulator's host side: enumerate() resolves once a device on it has seen 'configured', and
 * every host call checks its options (speed, unknown keys, timeoutMs, signal), rejecting
 * INVALID_ARG instead of ignoring a typo. bulkIn / bulkOut honour { timeoutMs, signal }.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { GenericUsbFnDriver, UsbFnDevice } from '../../lib/index.js';
import { EmulatedGenericUsbFn, type EnumerateOptions } from '../../lib/driver/emulator/index.js';
import { IOCTL_GENERICUSBFN_ACTIVATE_USB_BUS } from '../../native-defs/ioctl.js';
import { emulatorBackend } from '../backends.js';
import { closeOpenStacks, openDevice, rejection } from '../device/harness.js';

test.after.each(closeOpenStacks);

test('right after await host.enumerate(), the device says configured', async () => {
  const emu = new EmulatedGenericUsbFn();
  const device = await UsbFnDevice.open({ driver: new GenericUsbFnDriver(emu) });
  await emu.host.enumerate();
  assert.is(device.state, 'configured');
  assert.is(device.speed, 'high');
  await device.close();
});

test('enumerate() with nobody reading bus events times out saying so (waitForDevice: false is the way out)', async () => {
  const emu = new EmulatedGenericUsbFn();
  await emu.ioctl(IOCTL_GENERICUSBFN_ACTIVATE_USB_BUS, null, null);
  const err = await rejection(emu.host.enumerate({ timeoutMs: 50 }));
  assert.is(err.code, 'USBFN_ERR_TIMEOUT');
  assert.match(err.message, /did not read the Configured event.*waitForDevice: false/);
  await emu.close();
});

test("enumerate({ speed: 'ultra' }) and other bad enumerate options are INVALID_ARG", async () => {
  const emu = new EmulatedGenericUsbFn();
  const bad: unknown[] = [{ speed: 'ultra' }, { configuration: 0 }, { timeoutMs: -1 }, { timeout: 5 }, { waitForDevice: 'yes' }];
  for (const o of bad) assert.is((await rejection(emu.host.enumerate(o as EnumerateOptions))).code, 'USBFN_ERR_INVALID_ARG', JSON.stringify(o));
  assert.match((await rejection(emu.host.enumerate({ speed: 'ultra' } as never))).message, /speed must be one of "low", "full", "high", "super", got "ultra"/);
  await emu.close();
});

test('bulkIn / bulkOut / controlTransfer options are checked: unknown keys, timeoutMs, signal', async () => {
  const s = await openDevice(emulatorBackend);
  const cases: Array<Promise<unknown>> = [
    s.host.bulkIn(0x81, 64, { timeout: 5 } as never),
    s.host.bulkIn(0x81, 64, { timeoutMs: 'soon' } as never),
    s.host.bulkIn(0x81, 64, { signal: 1 } as never),
    s.host.bulkOut(0x01, Buffer.from('x'), { zlp: 'yes' } as never),
    s.host.bulkOut(0x01, 'x' as never),
    s.host.controlTransfer({ bmRequestType: 0xa1, bRequest: 1, wValue: 0, wIndex: 0, wLength: 1 }, undefined, { timeoutMs: -5 }),
  ];
  for (const p of cases) assert.is((await rejection(p)).code, 'USBFN_ERR_INVALID_ARG');
  assert.match((await rejection(s.host.bulkIn(0x81, 64, { timeout: 5 } as never))).message, /did you mean timeoutMs\?/);
  await s.close();
});

test('bulkIn / bulkOut give up with TIMEOUT after timeoutMs and CANCELED on abort, and the pipe still works', async () => {
  const s = await openDevice(emulatorBackend);
  assert.is((await rejection(s.host.bulkIn(0x81, 64, { timeoutMs: 10 }))).code, 'USBFN_ERR_TIMEOUT');
  assert.is((await rejection(s.host.bulkOut(0x01, Buffer.from('x'), { timeoutMs: 10 }))).code, 'USBFN_ERR_TIMEOUT');
  const ac = new AbortController();
  const read = rejection(s.host.bulkIn(0x81, 64, { signal: ac.signal }));
  ac.abort();
  assert.is((await read).code, 'USBFN_ERR_CANCELED');
  const writer = s.device.openWriter();
  writer.write(Buffer.from('after'));
  assert.is(Buffer.from(await s.host.bulkIn(0x81, 64)).toString(), 'after');
  await s.close();
});

test.run();
