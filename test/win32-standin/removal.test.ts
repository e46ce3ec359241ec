/**
 * Query-remove (a driver update, a disable): on Windows an open handle vetoes it unless its owner
 * registered for CM_NOTIFY_FILTER_TYPE_DEVICEHANDLE and closes the handle on
 * CM_NOTIFY_ACTION_DEVICEQUERYREMOVE. The stand-in vetoes the same way; Win32IoctlDevice must
 * let the removal through and tell its user.
 */
import * as assert from 'uvu/assert';
import { kernel32 } from '../../lib/driver/genericusbfn/win32-ffi.js';
import { FILE_FLAG_OVERLAPPED, GENERIC_READ, GENERIC_WRITE, OPEN_EXISTING } from '../../native-defs/win32-api.js';
import * as E from '../../native-defs/win32-errors.js';
import { GenericUsbFnDriver } from '../../lib/driver/genericusbfn/index.js';
import { EmulatedGenericUsbFn } from '../../lib/driver/emulator/index.js';
import { GUID, TRANSFER_OUT, ioctlErrorOf, openFake, parkingHandler, standin, standinSuite, until } from './helpers.js';

const test = standinSuite('win32 device: query-remove');

test('stand-in: a handle opened with no removal registration vetoes query-remove; closed, it no longer does', async () => {
  const link = `\\\\?\\USBFN#Veto#${process.pid}`;
  const id = standin!.addInterface(GUID, link, parkingHandler());
  const k = kernel32();
  const handle = k.CreateFileW(link, (GENERIC_READ | GENERIC_WRITE) >>> 0, 3, null, OPEN_EXISTING, FILE_FLAG_OVERLAPPED, null)!;
  assert.is(await standin!.queryRemove(id), 'vetoed');
  k.CloseHandle(handle);
  assert.is(await standin!.queryRemove(id), 'removed');
});

test('query-remove of an open device proceeds: pending and later requests fail DEVICE_NOT_CONNECTED, the device closes itself', async () => {
  const h = parkingHandler();
  const before = standin!.stats();
  const { dev, id } = openFake(h);
  const pending = dev.ioctl(TRANSFER_OUT, Uint8Array.of(1, 0, 0, 0), new Uint8Array(8));
  await until(() => h.parked.length === 1, 'the request');
  assert.is(await standin!.queryRemove(id), 'removed');
  assert.is((await ioctlErrorOf(pending)).errno, E.ERROR_DEVICE_NOT_CONNECTED);
  assert.is((await ioctlErrorOf(dev.ioctl(TRANSFER_OUT, null, null))).errno, E.ERROR_DEVICE_NOT_CONNECTED);
  await dev.close(); // already closing by itself: the same promise
  await until(() => standin!.stats().registrations === before.registrations, 'the removal registration to go');
  const after = standin!.stats();
  assert.is(after.handlesOpen, before.handlesOpen, 'no handle left (device, port, unregister thread)');
  assert.is(after.requestsOutstanding, before.requestsOutstanding);
  assert.is(after.threadsAlive, before.threadsAlive);
});

test('through GenericUsbFnDriver: a query-remove ends the bus events with USBFN_ERR_DISCONNECTED', async () => {
  const emulator = new EmulatedGenericUsbFn();
  const { dev, id } = openFake(emulator);
  const driver = new GenericUsbFnDriver(dev);
  await driver.activate();
  const removed = standin!.queryRemove(id);
  let err: { code?: string } | null = null;
  for (let i = 0; i < 100 && !err; i++) err = await driver.nextBusEvent().then(() => null, (e: { code?: string }) => e);
  assert.is(await removed, 'removed');
  assert.is(err?.code, 'USBFN_ERR_DISCONNECTED');
  await driver.close();
  await emulator.close();
});

test.run();
