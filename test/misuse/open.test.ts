/**
 * Misuse of UsbFnDevice.open(): every mistake is a coded UsbFnError whose message says what to
 * do next, raised before anything is opened (and the driver it was given is closed, as any
 * failed open() does).
 */
import fs from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { GenericUsbFnDriver, UsbFnDevice, type UsbFnDeviceOptions } from '../../lib/index.js';
import { EmulatedGenericUsbFn } from '../../lib/driver/emulator/index.js';
import { rejection } from '../device/harness.js';

const open = (options: unknown) => rejection(UsbFnDevice.open(options as UsbFnDeviceOptions));

test('the emulator passed as the driver (no GenericUsbFnDriver) is INVALID_ARG saying to wrap it', async () => {
  const emu = new EmulatedGenericUsbFn();
  const err = await open({ driver: emu });
  assert.is(err.code, 'USBFN_ERR_INVALID_ARG');
  assert.match(err.message, /new GenericUsbFnDriver\(new EmulatedGenericUsbFn\(\)\)/);
  assert.match(err.message, /IoctlDevice/);
  assert.ok(emu.closed, 'the failed open closed what it was given');
});

test('a driver that is not a driver at all is INVALID_ARG naming what was passed', async () => {
  for (const driver of ['x', 42, null, {}, () => undefined]) {
    const err = await open({ driver });
    assert.is(err.code, 'USBFN_ERR_INVALID_ARG', String(driver));
    assert.match(err.message, /driver must be a UsbFnDriver/);
  }
});

test('interfaceGuid that is not a GUID string is INVALID_ARG showing the expected form', async () => {
  for (const interfaceGuid of [123, '', 'not-a-guid', '{00000000-0000-0000-0000-00000000000}']) {
    const err = await open({ interfaceGuid });
    assert.is(err.code, 'USBFN_ERR_INVALID_ARG', String(interfaceGuid));
    assert.match(err.message, /interfaceGuid must be a GUID string/);
  }
});

test('wrong option types are INVALID_ARG: path, signal, noDataHandshake, options itself', async () => {
  assert.is((await open({ path: 5 })).code, 'USBFN_ERR_INVALID_ARG');
  assert.match((await open({ signal: 'soon' })).message, /AbortSignal/);
  assert.match((await open({ noDataHandshake: 'both' })).message, /noDataHandshake must be one of "out", "in"/);
  assert.match((await open('driver')).message, /options must be an object/);
});

test('an unknown option key is INVALID_ARG suggesting the nearest known one', async () => {
  const emu = new EmulatedGenericUsbFn();
  const err = await open({ driver: new GenericUsbFnDriver(emu), noDataHandshak: 'in' });
  assert.is(err.code, 'USBFN_ERR_INVALID_ARG');
  assert.match(err.message, /unknown option "noDataHandshak" \(did you mean noDataHandshake\?\)/);
  assert.ok(emu.closed);
});

test('a driver together with interfaceGuid is INVALID_ARG (one or the other)', async () => {
  const emu = new EmulatedGenericUsbFn();
  const err = await open({ driver: new GenericUsbFnDriver(emu), interfaceGuid: '{00000000-0000-0000-0000-000000000000}' });
  assert.is(err.code, 'USBFN_ERR_INVALID_ARG');
  assert.match(err.message, /either driver or interfaceGuid/);
});

test('open() with nothing, off Windows and Linux, is PLATFORM saying there is no backend here yet (not asking for a GUID)', async () => {
  if (process.platform === 'win32' || process.platform === 'linux') return;
  const err = await rejection(UsbFnDevice.open());
  assert.is(err.code, 'USBFN_ERR_PLATFORM');
  assert.match(err.message, /no backend for/);
  assert.match(err.message, /EmulatedGenericUsbFn/);
});

test('open() with nothing, on Linux without a usable gadget stack, is PLATFORM saying what is missing (not asking for a GUID)', async () => {
  if (process.platform !== 'linux' || fs.existsSync('/sys/class/udc') && fs.readdirSync('/sys/class/udc').length > 0) return;
  const err = await rejection(UsbFnDevice.open());
  assert.is(err.code, 'USBFN_ERR_PLATFORM');
  assert.match(err.message, /root|configfs|libcomposite|UDC/);
  assert.not.match(err.message, /interfaceGuid/);
});

test('a valid open still works after all that', async () => {
  const emu = new EmulatedGenericUsbFn();
  const device = await UsbFnDevice.open({ driver: new GenericUsbFnDriver(emu), noDataHandshake: 'in' });
  assert.is(device.state, 'detached');
  await device.close();
});

test.run();
