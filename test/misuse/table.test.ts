/**
 * The misuse table (README, "Errors"): one test per misuse, each asserting the stable code and
 * that nothing else broke (the device still moves data and answers EP0 afterwards, or, where
 * the misuse ends something, that it ends cleanly). Option typos have their own files
 * (open, pipe-options, handle, host); this file covers misuse of state and sequence.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { GenericUsbFnDriver, UsbFnDevice } from '../../lib/index.js';
import { EmulatedGenericUsbFn, type EmulatorOptions } from '../../lib/driver/emulator/index.js';
import { emulatorBackend } from '../backends.js';
import { classRequest, closeOpenStacks, openDevice, rejection, thrown } from '../device/harness.js';
import { stillWorks } from './helpers.js';

test.after.each(closeOpenStacks);

/** The error a stream write fails with (callback), with 'error' listened to. */
function writeError(stream: NodeJS.WritableStream & { on(e: 'error', f: () => void): unknown }, data: Buffer): Promise<{ code?: string }> {
  stream.on('error', () => undefined);
  return new Promise((resolve) => stream.write(data, (err) => resolve((err ?? {}) as { code?: string })));
}

test('wrong pipe: an endpoint the interface lacks, or of the other direction → INVALID_ARG', async () => {
  const s = await openDevice(emulatorBackend);
  assert.is(thrown(() => s.device.openReader({ out: 0x05 })).code, 'USBFN_ERR_INVALID_ARG');
  assert.is(thrown(() => s.device.openWriter({ in: 0x01 })).code, 'USBFN_ERR_INVALID_ARG');
  assert.is(thrown(() => s.device.openPipe({ out: 0x81 })).code, 'USBFN_ERR_INVALID_ARG');
  await stillWorks(s);
});

test('findPipe with a query that can never match → INVALID_ARG', async () => {
  const s = await openDevice(emulatorBackend);
  assert.is(thrown(() => s.device.findPipe('sideways' as never)).code, 'USBFN_ERR_INVALID_ARG');
  assert.match(thrown(() => s.device.findPipe({ adress: 1 } as never)).message, /did you mean address/);
  assert.is(s.device.findPipe(0x81)?.endpointAddress, 0x81);
  await stillWorks(s);
});

test("write after end → Node's ERR_STREAM_WRITE_AFTER_END", async () => {
  const s = await openDevice(emulatorBackend);
  const w = s.device.openWriter();
  const closed = new Promise((resolve) => w.once('close', resolve));
  w.end();
  assert.is((await writeError(w, Buffer.from('late'))).code, 'ERR_STREAM_WRITE_AFTER_END');
  await closed;
  await stillWorks(s);
});

test("write after destroy → Node's ERR_STREAM_DESTROYED", async () => {
  const s = await openDevice(emulatorBackend);
  const w = s.device.openWriter();
  const closed = new Promise((resolve) => w.once('close', resolve));
  w.destroy();
  await closed;
  assert.is((await writeError(w, Buffer.from('late'))).code, 'ERR_STREAM_DESTROYED');
  await stillWorks(s);
});

test("write after the device closed → ERR_STREAM_DESTROYED; openPipe after close → CLOSED; close twice is the same promise", async () => {
  const s = await openDevice(emulatorBackend);
  const w = s.device.openWriter();
  const first = s.device.close();
  assert.is(s.device.close(), first);
  await first;
  assert.is((await writeError(w, Buffer.from('late'))).code, 'ERR_STREAM_DESTROYED');
  assert.is(thrown(() => s.device.openPipe()).code, 'USBFN_ERR_CLOSED');
  assert.is(s.emu.pending(), 0, 'nothing left pending');
});

test('writeTransfer with data that is not bytes → INVALID_ARG, the stream unharmed', async () => {
  const s = await openDevice(emulatorBackend);
  const w = s.device.openWriter();
  assert.is((await rejection(w.writeTransfer('abc' as never))).code, 'USBFN_ERR_INVALID_ARG');
  assert.is((await rejection(w.writeTransfer(Buffer.from('x'), { zlp: 'yes' } as never))).code, 'USBFN_ERR_INVALID_ARG');
  const sent = w.writeTransfer(Buffer.from('ok'));
  assert.is(Buffer.from(await s.host.bulkIn(0x81, 64)).toString(), 'ok');
  assert.is(await sent, 2);
  w.destroy();
  await new Promise((resolve) => w.once('close', resolve));
  await stillWorks(s);
});

test('answer twice → ALREADY_ANSWERED; the first answer stands', async () => {
  const s = await openDevice(emulatorBackend);
  let second = '';
  s.device.control.once('setup', (req) => {
    void req.respond(Buffer.from('one'));
    second = thrown(() => req.respond(Buffer.from('two'))).code ?? '';
  });
  assert.is(Buffer.from(await s.host.controlTransfer(classRequest('in', 0x01, 8))).toString(), 'one');
  assert.is(second, 'USBFN_ERR_ALREADY_ANSWERED');
  await stillWorks(s);
});

test('respond longer than wLength → INVALID_ARG, the request still open for a right answer', async () => {
  const s = await openDevice(emulatorBackend);
  let code = '';
  s.device.control.once('setup', (req) => {
    code = thrown(() => req.respond(Buffer.alloc(9))).code ?? '';
    void req.respond(Buffer.from('fits'));
  });
  assert.is(Buffer.from(await s.host.controlTransfer(classRequest('in', 0x01, 4))).toString(), 'fits');
  assert.is(code, 'USBFN_ERR_INVALID_ARG');
  await stillWorks(s);
});

test('receive() on a device-to-host request (and respond() on host-to-device) → INVALID_ARG', async () => {
  const s = await openDevice(emulatorBackend);
  const codes: string[] = [];
  s.device.control.on('setup', (req) => {
    if (req.direction === 'deviceToHost') codes.push(thrown(() => req.receive()).code ?? '');
    else codes.push(thrown(() => req.respond(Buffer.from('x'))).code ?? '');
  });
  await rejection(s.host.controlTransfer(classRequest('in', 0x01, 4)));
  await rejection(s.host.controlTransfer(classRequest('out', 0x02, 2), Buffer.alloc(2)));
  assert.equal(codes, ['USBFN_ERR_INVALID_ARG', 'USBFN_ERR_INVALID_ARG']);
  s.device.control.removeAllListeners('setup');
  await stillWorks(s);
});

test('transfer before configured: the driver refuses with INVALID_STATE, the host with INVALID_STATE; a pipe waits', async () => {
  const s = await openDevice(emulatorBackend, { enumerate: false });
  assert.is((await rejection(s.stack.driver.transferIn(1, Buffer.from('x')))).code, 'USBFN_ERR_INVALID_STATE');
  s.host.attach('high');
  s.host.reset('high');
  assert.is((await rejection(s.host.bulkIn(0x81, 64))).code, 'USBFN_ERR_INVALID_STATE');
  const w = s.device.openWriter();
  w.write(Buffer.from('waited'));
  const configured = new Promise((resolve) => s.device.once('configured', resolve));
  s.host.configure(1);
  await configured;
  assert.is(Buffer.from(await s.host.bulkIn(0x81, 64)).toString(), 'waited');
  w.destroy();
  await new Promise((resolve) => w.once('close', resolve));
  await stillWorks(s);
});

test('open twice on one driver → INVALID_STATE, and the first device keeps its driver', async () => {
  const s = await openDevice(emulatorBackend);
  const err = await rejection(UsbFnDevice.open({ driver: s.stack.driver }));
  assert.is(err.code, 'USBFN_ERR_INVALID_STATE');
  assert.match(err.message, /already belongs to an open UsbFnDevice/);
  assert.not.ok(s.emu.closed, 'the refused open did not close the driver');
  await stillWorks(s);
});

test('open on a driver already closed → CLOSED', async () => {
  const emu = new EmulatedGenericUsbFn();
  const driver = new GenericUsbFnDriver(emu);
  await driver.close();
  assert.is((await rejection(UsbFnDevice.open({ driver }))).code, 'USBFN_ERR_CLOSED');
});

test('device.events() with an unknown option → INVALID_ARG', async () => {
  const s = await openDevice(emulatorBackend);
  assert.match(thrown(() => s.device.events({ limitt: 5 } as never)).message, /did you mean limit/);
  assert.is(thrown(() => s.device.events({ limit: 0 })).code, 'USBFN_ERR_INVALID_ARG');
  await stillWorks(s);
});

test('emulator and GenericUsbFnDriver constructors: typos and wrong devices → INVALID_ARG', () => {
  assert.match(thrown(() => new EmulatedGenericUsbFn({ endpoints: [{ adress: 0x81 }] } as unknown as EmulatorOptions)).message, /did you mean address/);
  assert.is(thrown(() => new EmulatedGenericUsbFn({ controlTimeout: 5 } as never)).code, 'USBFN_ERR_INVALID_ARG');
  assert.match(thrown(() => new GenericUsbFnDriver({} as never)).message, /takes an IoctlDevice/);
  assert.match(thrown(() => new GenericUsbFnDriver(new EmulatedGenericUsbFn(), { notificationDeph: 2 } as never)).message, /did you mean notificationDepth/);
});

test("host.reset('ultra') / attach('ultra') → INVALID_ARG, the bus untouched", async () => {
  const s = await openDevice(emulatorBackend);
  assert.is(thrown(() => s.host.reset('ultra' as never)).code, 'USBFN_ERR_INVALID_ARG');
  assert.is(s.host.state, 'configured');
  s.host.detach();
  assert.is(thrown(() => s.host.attach('ultra' as never)).code, 'USBFN_ERR_INVALID_ARG');
  assert.is(s.host.state, 'detached');
  const configured = new Promise((resolve) => s.device.once('configured', resolve));
  await s.host.enumerate();
  await configured;
  await stillWorks(s);
});

test.run();
