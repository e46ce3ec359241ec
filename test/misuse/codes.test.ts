/**
 * One test per row of the README's code table: each stable code is reachable the way the row
 * says, as a UsbFnError with that code (driver faults injected into the emulator where a real
 * driver would report them).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { GenericUsbFnDriver, UsbFnDevice, isUsbFnError } from '../../lib/index.js';
import { EmulatedGenericUsbFn } from '../../lib/driver/emulator/index.js';
import { IOCTL_GENERICUSBFN_GET_CLASS_INFO, IOCTL_GENERICUSBFN_TRANSFER_OUT } from '../../native-defs/ioctl.js';
import { ERROR_FILE_NOT_FOUND, ERROR_GEN_FAILURE, ERROR_INSUFFICIENT_BUFFER } from '../../native-defs/win32-errors.js';
import { openMessageChannel } from '../../lib/protocols/message-channel.js';
import { FrameKind, decodeFrame, encodeFrame } from '../../lib/protocols/message-frame.js';
import { emulatorBackend } from '../backends.js';
import { classRequest, closeOpenStacks, openDevice, rejection, thrown } from '../device/harness.js';

test.after.each(closeOpenStacks);

const OUT_PIPE = 2;

function is(err: unknown, code: string): void {
  assert.ok(isUsbFnError(err), `a UsbFnError, got ${String(err)}`);
  assert.is((err as { code: string }).code, code);
}

/** GET_CLASS_INFO failing with `errno` makes open() reject with the code the table gives it. */
async function openFailingWith(errno: number): Promise<unknown> {
  const emu = new EmulatedGenericUsbFn();
  emu.injectFault({ code: IOCTL_GENERICUSBFN_GET_CLASS_INFO, errno });
  return rejection(UsbFnDevice.open({ driver: new GenericUsbFnDriver(emu) }));
}

test('USBFN_ERR_CANCELED: an AbortSignal cancels a pending transfer', async () => {
  const s = await openDevice(emulatorBackend);
  const ac = new AbortController();
  const read = rejection(s.stack.driver.transferOut(OUT_PIPE, new Uint8Array(512), { signal: ac.signal }));
  ac.abort();
  is(await read, 'USBFN_ERR_CANCELED');
});

test('USBFN_ERR_DISCONNECTED: the host reads while detached', async () => {
  const s = await openDevice(emulatorBackend);
  s.host.detach();
  is(await rejection(s.host.bulkIn(0x81, 64)), 'USBFN_ERR_DISCONNECTED');
});

test('USBFN_ERR_STALLED: the host sees a stall when nobody answers a request', async () => {
  const s = await openDevice(emulatorBackend);
  is(await rejection(s.host.controlTransfer(classRequest('in', 0x01, 4))), 'USBFN_ERR_STALLED');
});

test('USBFN_ERR_TIMEOUT: the emulated host gives up on timeoutMs', async () => {
  const s = await openDevice(emulatorBackend);
  is(await rejection(s.host.bulkIn(0x81, 64, { timeoutMs: 5 })), 'USBFN_ERR_TIMEOUT');
});

test('USBFN_ERR_INVALID_ARG: an endpoint the interface lacks', async () => {
  const s = await openDevice(emulatorBackend);
  is(thrown(() => s.device.openReader({ out: 0x05 })), 'USBFN_ERR_INVALID_ARG');
});

test('USBFN_ERR_INVALID_STATE: a transfer before the host configured the device', async () => {
  const s = await openDevice(emulatorBackend, { enumerate: false });
  is(await rejection(s.stack.driver.transferIn(1, Buffer.from('x'))), 'USBFN_ERR_INVALID_STATE');
});

test('USBFN_ERR_NOT_SUPPORTED: DEACTIVATE_USB_BUS', async () => {
  const s = await openDevice(emulatorBackend);
  is(await rejection(s.stack.driver.deactivate()), 'USBFN_ERR_NOT_SUPPORTED');
});

test('USBFN_ERR_INSUFFICIENT_BUFFER: the driver says ERROR_INSUFFICIENT_BUFFER', async () => {
  is(await openFailingWith(ERROR_INSUFFICIENT_BUFFER), 'USBFN_ERR_INSUFFICIENT_BUFFER');
});

test('USBFN_ERR_MALFORMED: a byte count past the buffer', async () => {
  const s = await openDevice(emulatorBackend);
  s.emu.injectFault({ code: IOCTL_GENERICUSBFN_TRANSFER_OUT, errno: 0, bytesReturned: 4096 });
  is(await rejection(s.stack.driver.transferOut(OUT_PIPE, new Uint8Array(512))), 'USBFN_ERR_MALFORMED');
});

test('USBFN_ERR_CLOSED: used after close()', async () => {
  const s = await openDevice(emulatorBackend);
  await s.device.close();
  is(thrown(() => s.device.openWriter()), 'USBFN_ERR_CLOSED');
});

test('USBFN_ERR_ALREADY_ANSWERED: a setup request answered twice', async () => {
  const s = await openDevice(emulatorBackend);
  let second: unknown;
  s.device.control.once('setup', (req) => {
    void req.stall();
    second = thrown(() => req.stall());
  });
  await rejection(s.host.controlTransfer(classRequest('in', 0x01, 4)));
  is(second, 'USBFN_ERR_ALREADY_ANSWERED');
});

test('USBFN_ERR_OVERFLOW: events() falls more than limit events behind', async () => {
  const s = await openDevice(emulatorBackend);
  const it = s.device.events({ limit: 1 });
  const suspended = new Promise((resolve) => s.device.once('resume', () => resolve(undefined)));
  s.host.suspend();
  s.host.resume();
  await suspended;
  await it.next(); // the event buffered before the overflow
  is(await rejection(it.next()), 'USBFN_ERR_OVERFLOW');
});

test('USBFN_ERR_NOT_FOUND: the driver says ERROR_FILE_NOT_FOUND', async () => {
  is(await openFailingWith(ERROR_FILE_NOT_FOUND), 'USBFN_ERR_NOT_FOUND');
});

test('USBFN_ERR_PLATFORM: open() with nothing where usbfn has no backend', async () => {
  if (process.platform === 'win32') return;
  is(await rejection(UsbFnDevice.open()), 'USBFN_ERR_PLATFORM');
});

test('USBFN_ERR_REMOTE: the far end answers a message channel request with an error response', async () => {
  const s = await openDevice(emulatorBackend);
  const channel = openMessageChannel(s.device);
  const request = rejection(channel.request(Buffer.from('read register 7')));
  const asked = decodeFrame(Buffer.from(await s.host.bulkIn(0x81, 4096)));
  await s.host.bulkOut(0x01, encodeFrame(FrameKind.ERROR, asked.id, Buffer.from('no such register')), { zlp: true });
  is(await request, 'USBFN_ERR_REMOTE');
  await channel.close();
});

test('USBFN_ERR_DRIVER: any other driver failure, with win32Error', async () => {
  const err = await openFailingWith(ERROR_GEN_FAILURE);
  is(err, 'USBFN_ERR_DRIVER');
  assert.is((err as { win32Error?: number }).win32Error, ERROR_GEN_FAILURE);
});

test.run();
