// README "Errors": the error table and the misuse table, checked against the installed package.
// Each misuse must be refused with the documented code and leave the device working.
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { UsbFnDevice, GenericUsbFnDriver, BulkPipe, UsbFnError, ErrorCodes, isUsbFnError } from 'usbfn';
import { EmulatedGenericUsbFn } from 'usbfn/emulator';
import { promise, runPromises, same, failsWith, ok, settle } from './harness.mjs';

const readme = readFileSync(createRequire(import.meta.url).resolve('usbfn/package.json').replace(/package\.json$/, 'README.md'), 'utf8');
const errorsSection = readme.slice(readme.indexOf('\n## Errors'), readme.indexOf('\n## ', readme.indexOf('\n## Errors') + 1));
const vendorIn = (bRequest, wLength) => ({ bmRequestType: 0xc0, bRequest, wValue: 0, wIndex: 0, wLength });
const vendorOut = (bRequest, wLength) => ({ bmRequestType: 0x40, bRequest, wValue: 0, wIndex: 0, wLength });

/** A device on the emulator, enumerated (unless told otherwise). */
async function stack({ enumerate = true, options } = {}) {
  const emulated = new EmulatedGenericUsbFn(options);
  const device = await UsbFnDevice.open({ driver: new GenericUsbFnDriver(emulated) });
  if (enumerate) await emulated.host.enumerate({ speed: 'high' });
  return { emulated, device, host: emulated.host };
}

/** "leaving the device working": data both ways and an EP0 answer, then a clean close. */
async function stillWorks({ device, host, emulated }) {
  const pipe = device.openPipe({ zlp: 'never' });
  pipe.on('data', (c) => pipe.write(c));
  await host.bulkOut(0x01, Buffer.from('ping'));
  same(Buffer.from(await host.bulkIn(0x81, 512)).toString(), 'ping', 'echo after the misuse');
  const off = device.control.handle({ type: 'vendor', request: 0x70 }, () => Buffer.from('ep0'));
  same(Buffer.from(await host.controlTransfer(vendorIn(0x70, 3))).toString(), 'ep0', 'EP0 after the misuse');
  off();
  await device.close();
  same(emulated.pending(), 0, 'IOCTLs pending after close');
}

promise('the error table lists exactly the codes ErrorCodes exports', () => {
  const documented = [...errorsSection.matchAll(/^\| `(USBFN_ERR_\w+)` \|/gm)].map((m) => m[1]).sort();
  same(documented, Object.values(ErrorCodes).sort(), 'codes in the table vs ErrorCodes');
});

promise('a UsbFnError is an Error with a stable code; isUsbFnError(err, code) tests for one', async () => {
  const { device } = await stack({ enumerate: false });
  const err = (() => { try { device.openPipe({ zlpp: 'never' }); } catch (e) { return e; } })();
  ok(err instanceof Error && err instanceof UsbFnError, 'not an Error/UsbFnError');
  ok(isUsbFnError(err) && isUsbFnError(err, 'USBFN_ERR_INVALID_ARG') && !isUsbFnError(err, 'USBFN_ERR_CLOSED'), 'isUsbFnError');
  ok(!isUsbFnError(new Error('x')), 'isUsbFnError of a plain Error');
  ok(/did you mean zlp/i.test(err.message) || /\bzlp\b/.test(err.message.replace('zlpp', '')), `the message suggests the nearest key: ${err.message}`);
  await device.close();
});

/** The IOCTL codes by name, as the emulator's 'ioctl' event reports them during an open and enumeration. */
async function ioctlCodes() {
  const emulated = new EmulatedGenericUsbFn();
  const codes = {};
  emulated.on('ioctl', (info) => (codes[info.name] = info.code));
  const device = await UsbFnDevice.open({ driver: new GenericUsbFnDriver(emulated) });
  await emulated.host.enumerate();
  device.openWriter({ zlp: 'never' }).write(Buffer.from('x'));
  await emulated.host.bulkIn(0x81, 64);
  await device.close();
  return codes;
}

promise('a failure of the driver carries win32Error and win32ErrorName; a failed open() closes the driver', async () => {
  const { GET_CLASS_INFO } = await ioctlCodes();
  const emulated = new EmulatedGenericUsbFn();
  emulated.injectFault({ code: GET_CLASS_INFO, errno: 31 });
  const err = await failsWith('USBFN_ERR_DRIVER', () => UsbFnDevice.open({ driver: new GenericUsbFnDriver(emulated) }));
  same([err.win32Error, err.win32ErrorName], [31, 'ERROR_GEN_FAILURE'], '[win32Error, win32ErrorName]');
  ok(emulated.closed, 'the failed open() left the driver open');
});

promise("the table's driver errors: 995 CANCELED, ERROR_DEVICE_NOT_CONNECTED DISCONNECTED, ERROR_INVALID_PARAMETER INVALID_ARG, ERROR_NOT_SUPPORTED NOT_SUPPORTED, ERROR_FILE_NOT_FOUND NOT_FOUND, others DRIVER", async () => {
  const { GET_CLASS_INFO } = await ioctlCodes();
  const table = { 995: 'USBFN_ERR_CANCELED', 1167: 'USBFN_ERR_DISCONNECTED', 87: 'USBFN_ERR_INVALID_ARG', 50: 'USBFN_ERR_NOT_SUPPORTED', 2: 'USBFN_ERR_NOT_FOUND', 31: 'USBFN_ERR_DRIVER' };
  for (const [errno, code] of Object.entries(table)) {
    const emulated = new EmulatedGenericUsbFn();
    emulated.injectFault({ code: GET_CLASS_INFO, errno: Number(errno) });
    const err = await failsWith(code, () => new GenericUsbFnDriver(emulated).getClassInfo(), `GET_CLASS_INFO failing with ${errno}`);
    same(err.win32Error, Number(errno), 'win32Error');
    await emulated.close();
  }
});

promise('TRANSFER_IN: a byte count of 0 or the length is accepted (the length is reported); one past the buffer is USBFN_ERR_MALFORMED', async () => {
  const { TRANSFER_IN } = await ioctlCodes();
  for (const [bytesReturned, expected] of [[0, 5], [5, 5], [6, 'USBFN_ERR_MALFORMED']]) {
    const s = await stack();
    const writer = s.device.openWriter();
    const pipeId = s.device.findPipe(0x81).pipeId;
    writer.destroy();
    await settle();
    s.emulated.injectFault({ code: TRANSFER_IN, pipeId, errno: 0, bytesReturned, at: 'completion' });
    const sent = s.device.driver.transferIn(pipeId, Buffer.from('hello'));
    const read = s.host.bulkIn(0x81, 64).catch(() => undefined);
    if (typeof expected === 'number') same(await sent, expected, `transferIn with lpBytesReturned ${bytesReturned}`);
    else await failsWith(expected, () => sent, `transferIn with lpBytesReturned ${bytesReturned}`);
    await read;
    await s.device.close();
  }
});

// The misuse table, row by row.
promise('misuse: open({ driver: <emulator not wrapped> }) or driver: "x" → INVALID_ARG', async () => {
  await failsWith('USBFN_ERR_INVALID_ARG', () => UsbFnDevice.open({ driver: new EmulatedGenericUsbFn() }));
  await failsWith('USBFN_ERR_INVALID_ARG', () => UsbFnDevice.open({ driver: 'x' }));
});

promise('misuse: open({ interfaceGuid: 123 }), a malformed GUID, driver with interfaceGuid/path → INVALID_ARG', async () => {
  await failsWith('USBFN_ERR_INVALID_ARG', () => UsbFnDevice.open({ interfaceGuid: 123 }));
  await failsWith('USBFN_ERR_INVALID_ARG', () => UsbFnDevice.open({ interfaceGuid: '{not-a-guid}' }));
  const emulated = new EmulatedGenericUsbFn();
  await failsWith('USBFN_ERR_INVALID_ARG', () => UsbFnDevice.open({ driver: new GenericUsbFnDriver(emulated), interfaceGuid: '{99a25997-c583-4f6c-b257-18431969118c}' }));
  await failsWith('USBFN_ERR_INVALID_ARG', () => UsbFnDevice.open({ driver: new GenericUsbFnDriver(new EmulatedGenericUsbFn()), path: '\\\\?\\x' }));
});

promise('misuse: open() with no driver off Windows, without a UDC → PLATFORM, the message saying what is missing', async () => {
  if (process.platform === 'win32') return;
  const err = await failsWith('USBFN_ERR_PLATFORM', () => UsbFnDevice.open());
  if (process.platform === 'linux') ok(/root|configfs|usb_f_fs|UDC|device controller/i.test(err.message), `the message names what is missing: ${err.message}`);
  await failsWith('USBFN_ERR_PLATFORM', () => UsbFnDevice.open({ interfaceGuid: '{99a25997-c583-4f6c-b257-18431969118c}' }));
});

promise('misuse: an unknown option key or a wrong type anywhere listed → INVALID_ARG', async () => {
  const s = await stack({ enumerate: false });
  const calls = {
    open: () => UsbFnDevice.open({ driver: new GenericUsbFnDriver(new EmulatedGenericUsbFn()), zlpp: 1 }),
    openPipe: () => s.device.openPipe({ zlpp: 'never' }),
    openReader: () => s.device.openReader({ readSize: 'big' }),
    openWriter: () => s.device.openWriter({ zlp: 'sometimes' }),
    'new BulkPipe': () => new BulkPipe({ driver: null, zlpp: 1 }),
    'events()': () => s.device.events({ limt: 3 }),
    writeTransfer: () => {
      const w = s.device.openWriter();
      return w.writeTransfer(Buffer.from('x'), { zlpp: 'never' }).finally(() => w.destroy());
    },
    'new EmulatedGenericUsbFn': () => new EmulatedGenericUsbFn({ endpionts: [] }),
    'new GenericUsbFnDriver': () => new GenericUsbFnDriver(new EmulatedGenericUsbFn(), { notificationDepht: 2 }),
    'host.bulkIn': () => s.host.bulkIn(0x81, 64, { timeOut: 5 }),
    'host.enumerate': () => s.host.enumerate({ sped: 'high' }),
  };
  for (const [what, call] of Object.entries(calls)) await failsWith('USBFN_ERR_INVALID_ARG', call, what);
  await settle();
  await s.emulated.host.enumerate();
  await stillWorks(s);
});

promise('options are checked before anything happens: open() with a bad option issues no IOCTL (and, failed, closes its driver)', async () => {
  const emulated = new EmulatedGenericUsbFn();
  const issued = [];
  emulated.on('ioctl', (info) => issued.push(info.name));
  await failsWith('USBFN_ERR_INVALID_ARG', () => UsbFnDevice.open({ driver: new GenericUsbFnDriver(emulated), zlpp: 1 }));
  same(issued, [], 'IOCTLs issued');
  ok(emulated.closed, 'the driver of the failed open() is still open');
});

promise('misuse: zero or huge readsOutstanding / writesInFlight / readSize → INVALID_ARG', async () => {
  const s = await stack();
  for (const key of ['readsOutstanding', 'writesInFlight', 'readSize']) {
    for (const value of [0, 2 ** 40]) await failsWith('USBFN_ERR_INVALID_ARG', () => s.device.openPipe({ [key]: value }), `${key}: ${value}`);
  }
  await stillWorks(s);
});

promise('a readSize that is not a multiple of the pipe\'s wMaxPacketSize: the stream errors USBFN_ERR_INVALID_ARG, the device keeps working', async () => {
  const s = await stack();
  const reader = s.device.openReader({ readSize: 576 }); // a multiple of 64, not of high speed's 512
  const closed = new Promise((resolve) => reader.once('close', resolve));
  const [err] = await once(reader, 'error');
  same(err.code, 'USBFN_ERR_INVALID_ARG', 'the error');
  await closed;
  await stillWorks(s);
});

promise("misuse: control.handle({ type: 'klass' }) or an unknown match field → INVALID_ARG", async () => {
  const s = await stack();
  await failsWith('USBFN_ERR_INVALID_ARG', () => s.device.control.handle({ type: 'klass' }, () => undefined));
  await failsWith('USBFN_ERR_INVALID_ARG', () => s.device.control.handle({ reqest: 1 }, () => undefined));
  await stillWorks(s);
});

promise('misuse: a handler returning a non-Buffer, or data for a host-to-device request → handlerError INVALID_ARG, stalled', async () => {
  const s = await stack();
  const reported = [];
  s.device.control.on('handlerError', (err) => reported.push(err.code));
  s.device.control.handle({ type: 'vendor', request: 0x10 }, () => 'text');
  s.device.control.handle({ type: 'vendor', request: 0x11 }, () => Buffer.from('data'));
  await failsWith('USBFN_ERR_STALLED', () => s.host.controlTransfer(vendorIn(0x10, 8)), 'the host, non-Buffer reply');
  await failsWith('USBFN_ERR_STALLED', () => s.host.controlTransfer(vendorOut(0x11, 0)), 'the host, data for host-to-device');
  same(reported, ['USBFN_ERR_INVALID_ARG', 'USBFN_ERR_INVALID_ARG'], 'handlerError codes');
  await stillWorks(s);
});

promise("misuse: a pipe the interface lacks, of the other direction, findPipe('sideways') → INVALID_ARG", async () => {
  const s = await stack();
  await failsWith('USBFN_ERR_INVALID_ARG', () => s.device.openReader({ out: 0x05 }));
  await failsWith('USBFN_ERR_INVALID_ARG', () => s.device.openWriter({ in: 0x01 }));
  await failsWith('USBFN_ERR_INVALID_ARG', () => s.device.findPipe('sideways'));
  await stillWorks(s);
});

promise('misuse: a second reader (or writer) on an endpoint with an open stream → INVALID_STATE', async () => {
  const s = await stack();
  const r = s.device.openReader();
  const w = s.device.openWriter();
  await failsWith('USBFN_ERR_INVALID_STATE', () => s.device.openReader());
  await failsWith('USBFN_ERR_INVALID_STATE', () => s.device.openWriter());
  r.destroy();
  w.destroy();
  await settle();
  await stillWorks(s);
});

promise('misuse: a second UsbFnDevice.open() on an owned driver → INVALID_STATE; open() on a closed driver, openPipe() after close() → CLOSED', async () => {
  const s = await stack();
  await failsWith('USBFN_ERR_INVALID_STATE', () => UsbFnDevice.open({ driver: s.device.driver }));
  const driver = new GenericUsbFnDriver(new EmulatedGenericUsbFn());
  await driver.close();
  await failsWith('USBFN_ERR_CLOSED', () => UsbFnDevice.open({ driver }));
  await stillWorks(s);
  await failsWith('USBFN_ERR_CLOSED', () => s.device.openPipe());
});

promise('misuse: a transfer on the driver or by the emulated host before configuration → INVALID_STATE; a pipe waits', async () => {
  const s = await stack({ enumerate: false });
  await failsWith('USBFN_ERR_DISCONNECTED', () => s.host.bulkIn(0x81, 64), 'host.bulkIn with no cable');
  s.host.attach('high');
  s.host.reset('high');
  await failsWith('USBFN_ERR_INVALID_STATE', () => s.host.bulkIn(0x81, 64), 'host.bulkIn');
  await failsWith('USBFN_ERR_INVALID_STATE', () => s.host.bulkOut(0x01, Buffer.from('x')), 'host.bulkOut');
  const w = s.device.openWriter();
  w.write(Buffer.from('waited'));
  await s.host.enumerate();
  same(Buffer.from(await s.host.bulkIn(0x81, 64)).toString(), 'waited', 'the pipe waited');
  w.destroy();
  await settle();
  await stillWorks(s);
  const emu = new EmulatedGenericUsbFn();
  const driver = new GenericUsbFnDriver(emu);
  const info = await driver.getClassInfo();
  await failsWith('USBFN_ERR_INVALID_STATE', () => driver.transferIn(info.high.pipes.find((p) => p.endpointAddress === 0x81).pipeId, Buffer.from('x')), 'driver.transferIn');
  await driver.close();
});

promise('misuse: answering twice → ALREADY_ANSWERED; respond() too long, receive() on device-to-host, respond() on host-to-device → INVALID_ARG', async () => {
  const s = await stack();
  const codes = [];
  const code = (fn) => { try { fn(); return 'none'; } catch (e) { return e.code; } };
  s.device.control.on('setup', (req) => {
    if (req.bRequest === 0x20) {
      codes.push(code(() => req.respond(Buffer.alloc(9))));
      codes.push(code(() => req.receive()));
      void req.respond(Buffer.from('one'));
      codes.push(code(() => req.respond(Buffer.from('two'))));
    } else {
      codes.push(code(() => req.respond(Buffer.from('x'))));
      void req.receive();
    }
  });
  same(Buffer.from(await s.host.controlTransfer(vendorIn(0x20, 4))).toString(), 'one', 'the first answer stands');
  await s.host.controlTransfer(vendorOut(0x21, 2), Buffer.alloc(2));
  same(codes, ['USBFN_ERR_INVALID_ARG', 'USBFN_ERR_INVALID_ARG', 'USBFN_ERR_ALREADY_ANSWERED', 'USBFN_ERR_INVALID_ARG'], 'codes');
  s.device.control.removeAllListeners('setup');
  await stillWorks(s);
});

promise("misuse: write() after end() / destroy() / the device's close() → Node's ERR_STREAM_WRITE_AFTER_END / ERR_STREAM_DESTROYED", async () => {
  const s = await stack();
  const writeError = (w, data) => new Promise((resolve) => { w.on('error', () => undefined); w.write(data, (err) => resolve(err?.code)); });
  const ended = s.device.openWriter();
  const endedClosed = new Promise((r) => ended.once('close', r));
  ended.end();
  same(await writeError(ended, Buffer.from('x')), 'ERR_STREAM_WRITE_AFTER_END', 'after end()');
  await endedClosed;
  const destroyed = s.device.openPipe();
  destroyed.destroy();
  await new Promise((r) => destroyed.once('close', r));
  same(await writeError(destroyed, Buffer.from('x')), 'ERR_STREAM_DESTROYED', 'after destroy()');
  const open = s.device.openWriter();
  const first = s.device.close();
  ok(s.device.close() === first, 'close() twice: not the same promise');
  await first;
  same(await writeError(open, Buffer.from('x')), 'ERR_STREAM_DESTROYED', "after the device's close()");
});

promise("misuse: host.enumerate({ speed: 'ultra' }), host.reset('ultra'), bulkIn(…, { timeout }) → INVALID_ARG", async () => {
  const s = await stack({ enumerate: false });
  await failsWith('USBFN_ERR_INVALID_ARG', () => s.host.enumerate({ speed: 'ultra' }));
  await failsWith('USBFN_ERR_INVALID_ARG', () => s.host.reset('ultra'));
  await s.host.enumerate();
  await failsWith('USBFN_ERR_INVALID_ARG', () => s.host.bulkIn(0x81, 64, { timeout: 10 }));
  await stillWorks(s);
});

promise('misuse: host.bulkIn / bulkOut past timeoutMs → TIMEOUT, aborted by signal → CANCELED', async () => {
  const s = await stack();
  await failsWith('USBFN_ERR_TIMEOUT', () => s.host.bulkIn(0x81, 64, { timeoutMs: 50 }), 'bulkIn, nobody writes');
  await failsWith('USBFN_ERR_TIMEOUT', () => s.host.bulkOut(0x01, Buffer.from('x'), { timeoutMs: 50 }), 'bulkOut, nobody reads');
  await failsWith('USBFN_ERR_CANCELED', () => s.host.bulkIn(0x81, 64, { signal: AbortSignal.timeout(20) }), 'bulkIn, aborted');
  await stillWorks(s);
});

promise('misuse: host.enumerate() when nobody reads bus events → TIMEOUT; { waitForDevice: false } resolves once queued', async () => {
  const { ACTIVATE_USB_BUS } = await ioctlCodes();
  for (const waitForDevice of [true, false]) {
    const emulated = new EmulatedGenericUsbFn(); // no driver on it: nobody issues BUS_EVENT_NOTIFICATION
    await emulated.ioctl(ACTIVATE_USB_BUS, null, null);
    const enumerating = emulated.host.enumerate({ timeoutMs: 200, waitForDevice });
    if (waitForDevice) await failsWith('USBFN_ERR_TIMEOUT', () => enumerating, 'enumerate()');
    else await enumerating;
    await emulated.close();
  }
});

promise("closing the emulator under an open device closes the device cleanly ('close', no 'error')", async () => {
  const s = await stack();
  const seen = [];
  s.device.on('error', () => seen.push('error'));
  const closed = new Promise((r) => s.device.once('close', () => { seen.push('close'); r(); }));
  await s.emulated.close();
  await closed;
  same(seen, ['close'], 'events');
});

await runPromises();
