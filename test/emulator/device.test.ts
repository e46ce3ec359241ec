/** The IOCTL front: ordering refusals, unknown codes, close, and the test hooks (pending, counts, events, faults). */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { EmulatedGenericUsbFn, type IoctlCompletion, type IoctlInfo } from '../../lib/driver/emulator/index.js';
import { encodeInterfaceInfoHeader } from '../../native-defs/codec.js';
import { CODES, IN_PIPE, OUT_PIPE, activatedDevice, configuredDevice, nextEvent, pattern, pipe, rejectsCode, rejectsWin32, transferIn, transferOut } from './helpers.js';

const test = suite('device');

test('before ACTIVATE: transfers, handshakes, pipe state and descriptor set fail with ERROR_BAD_COMMAND', async () => {
  const device = new EmulatedGenericUsbFn();
  await rejectsWin32(transferIn(device, IN_PIPE, pattern(1)), 22);
  await rejectsWin32(transferOut(device, OUT_PIPE, new Uint8Array(8)), 22);
  await rejectsWin32(transferIn(device, 0, pattern(1)), 22);
  await rejectsWin32(device.ioctl(CODES.HANDSHAKE_IN, pipe(0), null), 22);
  await rejectsWin32(device.ioctl(CODES.HANDSHAKE_OUT, pipe(0), null), 22);
  await rejectsWin32(device.ioctl(CODES.GET_PIPE_STATE, pipe(1), new Uint8Array(1)), 22);
  await rejectsWin32(device.ioctl(CODES.SET_PIPE_STATE, pipe(1), Uint8Array.of(1)), 22);
  await rejectsWin32(device.ioctl(CODES.GET_DESCRIPTOR_SET, encodeInterfaceInfoHeader(0, 2), new Uint8Array(64)), 22);
  assert.not.ok(device.activated);
  await device.close();
});

test('after ACTIVATE but before Configured, data-pipe transfers fail with 22', async () => {
  const device = await activatedDevice();
  assert.ok(device.activated);
  await rejectsWin32(transferIn(device, IN_PIPE, pattern(1)), 22);
  device.host.attach();
  device.host.reset('high');
  await rejectsWin32(transferOut(device, OUT_PIPE, new Uint8Array(8)), 22);
  device.host.configure();
  const ok = transferOut(device, OUT_PIPE, new Uint8Array(8));
  await device.host.bulkOut(0x01, pattern(3));
  assert.is(await ok, 3);
  await device.close();
});

test('ACTIVATE twice succeeds; DEACTIVATE_USB_BUS is ERROR_NOT_SUPPORTED', async () => {
  const device = await activatedDevice();
  assert.is(await device.ioctl(CODES.ACTIVATE, null, null), 0);
  await rejectsWin32(device.ioctl(CODES.DEACTIVATE, null, null), 50);
  await device.close();
});

test('an unknown IOCTL code fails with ERROR_INVALID_PARAMETER and is counted by its hex name', async () => {
  const device = new EmulatedGenericUsbFn();
  await rejectsWin32(device.ioctl(0x0022c044, null, null), 87);
  await rejectsWin32(device.ioctl(0x002ac00d, pipe(1), null), 87, 'kernel-only codes too');
  assert.is(device.counts['UNKNOWN_0x0022c044'], 1);
  await device.close();
});

test('close cancels everything pending with 995, then every call fails with ERROR_INVALID_HANDLE', async () => {
  const device = await configuredDevice();
  const control = rejectsCode(device.host.controlTransfer({ bmRequestType: 0x21, bRequest: 1, wValue: 0, wIndex: 0, wLength: 0 }), 'USBFN_ERR_DISCONNECTED');
  await nextEvent(device); // the SetupPacket
  const events = rejectsWin32(nextEvent(device), 995);
  const tin = rejectsWin32(transferIn(device, IN_PIPE, pattern(4)), 995);
  const write = rejectsCode(device.host.bulkOut(0x01, pattern(4)), 'USBFN_ERR_DISCONNECTED');
  const closing = device.close();
  assert.is(device.close(), closing, 'idempotent');
  await closing;
  await Promise.all([events, tin, write, control]);
  assert.is(device.pending(), 0);
  await rejectsWin32(device.ioctl(CODES.GET_CLASS_INFO, null, new Uint8Array(748)), 6);
  await rejectsCode(device.host.bulkIn(0x81, 8), 'USBFN_ERR_DISCONNECTED');
  assert.throws(() => device.host.reset('high'), (e: { code: string }) => e.code === 'USBFN_ERR_DISCONNECTED');
  assert.is(device.state, 'detached');
});

test('close leaves no timer behind, even with a control transfer waiting for its timeout', async () => {
  const device = await configuredDevice({ controlTimeoutMs: 60_000 });
  const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  const before = timers();
  const control = device.host.controlTransfer({ bmRequestType: 0x21, bRequest: 1, wValue: 0, wIndex: 0, wLength: 0 }).catch(() => {});
  assert.is(timers(), before + 1);
  await device.close();
  await control;
  assert.is(timers(), before);
});

test('pending() counts IOCTLs not yet completed, by code and pipe id', async () => {
  const device = await configuredDevice();
  void nextEvent(device).catch(() => {});
  const a = transferIn(device, IN_PIPE, pattern(4));
  const b = transferOut(device, OUT_PIPE, new Uint8Array(8));
  assert.is(device.pending(), 3);
  assert.is(device.pending({ code: CODES.TRANSFER_IN }), 1);
  assert.is(device.pending({ pipeId: OUT_PIPE }), 1);
  assert.is(device.pending({ code: CODES.NOTIFICATION }), 1);
  await device.host.bulkIn(0x81, 8);
  await a;
  assert.is(device.pending({ code: CODES.TRANSFER_IN }), 0);
  await device.close();
  await b.catch(() => {});
});

test('counts tallies issued IOCTLs by short name', async () => {
  const device = await configuredDevice();
  assert.equal(device.counts, { ACTIVATE_USB_BUS: 1, BUS_EVENT_NOTIFICATION: 3 });
  await device.close();
});

test('"ioctl" and "complete" events report code, name, pipe id, length and result', async () => {
  const device = await configuredDevice();
  const issued: IoctlInfo[] = [];
  const completed: IoctlCompletion[] = [];
  device.on('ioctl', (i) => issued.push(i));
  device.on('complete', (c) => completed.push(c));
  const tin = transferIn(device, IN_PIPE, pattern(100), true);
  await device.host.bulkIn(0x81, 512);
  await tin;
  await rejectsWin32(transferIn(device, 9, pattern(1)), 87);
  assert.equal(issued.map((i) => [i.name, i.pipeId, i.length, i.inputLength]), [['TRANSFER_IN_APPEND_ZERO_PKT', 1, 100, 4], ['TRANSFER_IN', 9, 1, 4]]);
  assert.equal(completed.map((c) => [c.name, c.errno, c.bytesReturned]), [['TRANSFER_IN_APPEND_ZERO_PKT', 0, 100], ['TRANSFER_IN', 87, 0]]);
  assert.is(completed[0].id, issued[0].id);
  await device.close();
});

test('injectFault fails the next matching request with any Win32 error, once by default', async () => {
  const device = await configuredDevice();
  device.injectFault({ code: CODES.TRANSFER_OUT, pipeId: OUT_PIPE, errno: 1167 });
  await rejectsWin32(transferOut(device, OUT_PIPE, new Uint8Array(8)), 1167);
  const next = transferOut(device, OUT_PIPE, new Uint8Array(8));
  await device.host.bulkOut(0x01, pattern(2));
  assert.is(await next, 2, 'the fault was used up');
  await device.close();
});

test('injectFault can succeed while claiming more bytes than the buffer holds', async () => {
  const device = await configuredDevice();
  device.injectFault({ code: CODES.GET_CLASS_INFO, errno: 0, bytesReturned: 5000, times: 2 });
  assert.is(await device.ioctl(CODES.GET_CLASS_INFO, null, new Uint8Array(748)), 5000);
  assert.is(await device.ioctl(CODES.GET_CLASS_INFO, null, new Uint8Array(748)), 5000);
  assert.is(await device.ioctl(CODES.GET_CLASS_INFO, null, new Uint8Array(748)), 748);
  await device.close();
});

test('injectFault at completion lets the data move, then reports the fault\'s result', async () => {
  const device = await configuredDevice();
  device.injectFault({ code: CODES.TRANSFER_OUT, errno: 0, bytesReturned: 9999, at: 'completion' });
  const buf = new Uint8Array(64);
  const received = transferOut(device, OUT_PIPE, buf);
  await device.host.bulkOut(0x01, pattern(10));
  assert.is(await received, 9999);
  assert.equal(buf.subarray(0, 10), pattern(10));
  device.injectFault({ code: CODES.TRANSFER_IN, errno: 31, at: 'completion' });
  const sent = transferIn(device, IN_PIPE, pattern(3));
  assert.equal(await device.host.bulkIn(0x81, 64), pattern(3));
  await rejectsWin32(sent, 31);
  await device.close();
});

test('injectFault only matches its pipe; clearFaults forgets unused faults', async () => {
  const device = await configuredDevice();
  device.injectFault({ code: CODES.GET_PIPE_STATE, pipeId: 2, times: Infinity });
  assert.is(await device.ioctl(CODES.GET_PIPE_STATE, pipe(1), new Uint8Array(1)), 1);
  await rejectsWin32(device.ioctl(CODES.GET_PIPE_STATE, pipe(2), new Uint8Array(1)), 31);
  await rejectsWin32(device.ioctl(CODES.GET_PIPE_STATE, pipe(2), new Uint8Array(1)), 31);
  device.clearFaults();
  assert.is(await device.ioctl(CODES.GET_PIPE_STATE, pipe(2), new Uint8Array(1)), 1);
  await device.close();
});

test.run();
