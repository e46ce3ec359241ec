/** EP0: setup packets, data and status stages, stall, timeout, aborts, standard requests. */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { EmulatedGenericUsbFn, EmulatorOptions } from '../../lib/driver/emulator/index.js';
import type { SetupPacket } from '../../native-defs/codec.js';
import { UsbFnEvent } from '../../native-defs/enums.js';
import { CODES, configuredDevice, nextEvent, pattern, pipe, rejectsCode, rejectsWin32, settled, transferIn, transferOut } from './helpers.js';

const test = suite<{ device: EmulatedGenericUsbFn }>('EP0 control transfers');
test.before.each(async (ctx) => {
  ctx.device = await configuredDevice();
});
test.after.each(async (ctx) => {
  await ctx.device.close();
});

const classIn = (wLength: number): SetupPacket => ({ bmRequestType: 0xa1, bRequest: 0x21, wValue: 0, wIndex: 0, wLength });
const classOut = (wLength: number): SetupPacket => ({ bmRequestType: 0x21, bRequest: 0x20, wValue: 0, wIndex: 0, wLength });
const handshake = (d: EmulatedGenericUsbFn, dir: 'in' | 'out') => d.ioctl(dir === 'in' ? CODES.HANDSHAKE_IN : CODES.HANDSHAKE_OUT, pipe(0), null);
const stallEp0 = (d: EmulatedGenericUsbFn, on: boolean) => d.ioctl(CODES.SET_PIPE_STATE, pipe(0), Uint8Array.of(on ? 1 : 0));

async function withDevice(options: EmulatorOptions, body: (d: EmulatedGenericUsbFn) => Promise<void>) {
  const device = await configuredDevice(options);
  try {
    await body(device);
  } finally {
    await device.close();
  }
}

test('device-to-host: SetupPacket event, TRANSFER_IN on pipe 0, HANDSHAKE_OUT; the host gets the data', async ({ device }) => {
  const reply = device.host.controlTransfer(classIn(64));
  const event = await nextEvent(device);
  assert.is(event.event, UsbFnEvent.SetupPacket);
  assert.equal(event.setupPacket, classIn(64));
  assert.equal([...event.raw!], [0xa1, 0x21, 0, 0, 0, 0, 64, 0]);
  assert.is(await transferIn(device, 0, pattern(7)), 7);
  assert.is(await handshake(device, 'out'), 0);
  assert.equal(await reply, pattern(7));
});

test('a reply of exactly wLength (a multiple of EP0\'s 64) ends the data stage without a ZLP', async ({ device }) => {
  const reply = device.host.controlTransfer(classIn(128));
  await nextEvent(device);
  const sent = transferIn(device, 0, pattern(128), true); // a trailing ZLP is dropped: the host stopped at wLength
  await handshake(device, 'out');
  assert.equal(await reply, pattern(128));
  assert.is(await sent, 128);
});

test('a k·mps reply shorter than wLength needs APPEND_ZERO_PKT to end the data stage', async ({ device }) => {
  const reply = device.host.controlTransfer(classIn(255));
  await nextEvent(device);
  await transferIn(device, 0, pattern(64), true);
  await handshake(device, 'out');
  assert.equal(await reply, pattern(64));
});

test('without the ZLP the host keeps waiting for data, and the handshake with it, until the timeout', async ({ device }) => {
  // 200 ms: long enough that a loaded machine still gets the data stage in before the host gives
  // up; the timeout's rejection is expected at once so it is never unhandled meanwhile.
  const reply = device.host.controlTransfer(classIn(255), undefined, { timeoutMs: 200 });
  const timedOut = rejectsCode(reply, 'USBFN_ERR_TIMEOUT');
  await nextEvent(device);
  assert.is(await transferIn(device, 0, pattern(64)), 64);
  const status = handshake(device, 'out');
  assert.not.ok(await settled(status), 'the status stage waits for the data stage to end');
  await timedOut;
  await rejectsWin32(status, 995);
});

test('TRANSFER_IN longer than wLength is refused with ERROR_INVALID_PARAMETER', async ({ device }) => {
  const reply = device.host.controlTransfer(classIn(8));
  await nextEvent(device);
  await rejectsWin32(transferIn(device, 0, pattern(9)), 87);
  await transferIn(device, 0, pattern(8));
  await handshake(device, 'out');
  assert.is((await reply).length, 8);
});

test('a short reply ends the data stage: a further TRANSFER_IN on pipe 0 is refused with 22', async ({ device }) => {
  const reply = device.host.controlTransfer(classIn(64));
  await nextEvent(device);
  const first = transferIn(device, 0, pattern(10));
  await rejectsWin32(transferIn(device, 0, pattern(5)), 22);
  await handshake(device, 'out');
  assert.equal(await reply, pattern(10));
  assert.is(await first, 10);
});

test('host-to-device: the host\'s data lands in TRANSFER_OUT on pipe 0, then HANDSHAKE_IN', async ({ device }) => {
  const data = pattern(100);
  const done = device.host.controlTransfer(classOut(100), data);
  assert.equal((await nextEvent(device)).setupPacket, classOut(100));
  const buf = new Uint8Array(100);
  assert.is(await transferOut(device, 0, buf), 100);
  assert.equal(buf, data);
  assert.is(await handshake(device, 'in'), 0);
  assert.equal(await done, new Uint8Array(0));
});

test('host-to-device: a larger TRANSFER_OUT completes when the wLength bytes are in, even at k·mps', async ({ device }) => {
  const done = device.host.controlTransfer(classOut(64), pattern(64));
  await nextEvent(device);
  assert.is(await transferOut(device, 0, new Uint8Array(512)), 64);
  await handshake(device, 'in');
  await done;
});

test('the status handshake must run opposite to the data stage (else 22)', async ({ device }) => {
  const reply = device.host.controlTransfer(classIn(4));
  await nextEvent(device);
  await rejectsWin32(handshake(device, 'in'), 22);
  await rejectsWin32(transferOut(device, 0, new Uint8Array(4)), 22);
  await transferIn(device, 0, pattern(4));
  await handshake(device, 'out');
  await reply;
});

test('no data stage: either handshake ends it by default', async ({ device }) => {
  for (const dir of ['in', 'out'] as const) {
    const done = device.host.controlTransfer(classOut(0));
    await nextEvent(device);
    await handshake(device, dir);
    assert.is((await done).length, 0);
  }
});

for (const rule of ['in', 'out'] as const) {
  test(`noDataStatusStage '${rule}' accepts only HANDSHAKE_${rule.toUpperCase()}`, async () => {
    await withDevice({ noDataStatusStage: rule }, async (device) => {
      const done = device.host.controlTransfer(classOut(0));
      await nextEvent(device);
      await rejectsWin32(handshake(device, rule === 'in' ? 'out' : 'in'), 22);
      await handshake(device, rule);
      await done;
    });
  });
}

test('SET_PIPE_STATE(0, TRUE) stalls the request: the host sees STALL; the next setup clears it', async ({ device }) => {
  const reply = device.host.controlTransfer(classIn(8));
  await nextEvent(device);
  await stallEp0(device, true);
  await rejectsCode(reply, 'USBFN_ERR_STALLED');
  const state = new Uint8Array(1);
  await device.ioctl(CODES.GET_PIPE_STATE, pipe(0), state);
  assert.is(state[0], 1);
  assert.ok(device.host.isHalted(0x00));
  const next = device.host.controlTransfer(classOut(0));
  await nextEvent(device);
  await device.ioctl(CODES.GET_PIPE_STATE, pipe(0), state);
  assert.is(state[0], 0, 'a protocol stall ends at the next SETUP');
  await handshake(device, 'in');
  await next;
});

test('stalling during the data stage cancels the device\'s pending EP0 requests with 995', async ({ device }) => {
  const reply = device.host.controlTransfer(classIn(8));
  await nextEvent(device);
  const status = handshake(device, 'out'); // waits for a data stage that never comes
  await stallEp0(device, true);
  await rejectsCode(reply, 'USBFN_ERR_STALLED');
  await rejectsWin32(status, 995);
});

test('a device that never answers: the host times out, the request is dropped, a late answer gets 22', async () => {
  await withDevice({ controlTimeoutMs: 10 }, async (device) => {
    const reply = device.host.controlTransfer(classIn(8));
    await nextEvent(device);
    await rejectsCode(reply, 'USBFN_ERR_TIMEOUT');
    await rejectsWin32(transferIn(device, 0, pattern(8)), 22);
    await rejectsWin32(handshake(device, 'out'), 22);
  });
});

test('a new setup packet aborts the one in progress: the host\'s first call rejects CANCELED', async ({ device }) => {
  const first = device.host.controlTransfer(classOut(16), pattern(16));
  await nextEvent(device);
  const second = device.host.controlTransfer(classIn(2));
  await rejectsCode(first, 'USBFN_ERR_CANCELED');
  assert.is((await nextEvent(device)).setupPacket?.bRequest, 0x21);
  await transferIn(device, 0, pattern(2));
  await handshake(device, 'out');
  assert.equal(await second, pattern(2));
});

test('a pending EP0 request (a handshake waiting for the data stage) completes with 995 on a newer setup', async ({ device }) => {
  const first = device.host.controlTransfer(classIn(4));
  await nextEvent(device);
  const status = handshake(device, 'out');
  const second = device.host.controlTransfer(classOut(0));
  await rejectsCode(first, 'USBFN_ERR_CANCELED');
  await rejectsWin32(status, 995);
  await nextEvent(device);
  await handshake(device, 'in');
  await second;
});

test('a reset aborts the control transfer; detach rejects it with DISCONNECTED', async ({ device }) => {
  const a = device.host.controlTransfer(classIn(4));
  const aOut = handshake(device, 'out');
  device.host.reset('high');
  await rejectsCode(a, 'USBFN_ERR_CANCELED');
  await rejectsWin32(aOut, 995);
  const b = device.host.controlTransfer(classOut(0));
  device.host.detach();
  await rejectsCode(b, 'USBFN_ERR_DISCONNECTED');
  await rejectsCode(device.host.controlTransfer(classOut(0)), 'USBFN_ERR_DISCONNECTED');
});

test('EP0 transfers and handshakes with no setup packet waiting fail with 22', async ({ device }) => {
  await rejectsWin32(transferIn(device, 0, pattern(1)), 22);
  await rejectsWin32(transferOut(device, 0, new Uint8Array(8)), 22);
  await rejectsWin32(handshake(device, 'in'), 22);
  await rejectsWin32(handshake(device, 'out'), 22);
  await rejectsWin32(device.ioctl(CODES.HANDSHAKE_IN, pipe(1), null), 87, 'handshakes are for pipe 0');
});

test('standard requests are answered by the emulator, never forwarded', async ({ device }) => {
  assert.equal([...(await device.host.controlTransfer({ bmRequestType: 0x80, bRequest: 6, wValue: 0x0300, wIndex: 0, wLength: 255 }))], [4, 3, 9, 4]);
  await device.host.controlTransfer({ bmRequestType: 0x00, bRequest: 9, wValue: 2, wIndex: 0, wLength: 0 });
  assert.is(device.configurationValue, 2);
  assert.equal([...(await device.host.controlTransfer({ bmRequestType: 0x80, bRequest: 8, wValue: 0, wIndex: 0, wLength: 1 }))], [2]);
  await rejectsCode(device.host.controlTransfer({ bmRequestType: 0x80, bRequest: 6, wValue: 0x0305, wIndex: 0x409, wLength: 255 }), 'USBFN_ERR_STALLED');
  const configured = await nextEvent(device);
  assert.equal([configured.event, configured.configurationValue], [UsbFnEvent.Configured, 2]);
  assert.is(device.queuedEvents, 0, 'no SetupPacket event for standard requests');
  await device.host.controlTransfer({ bmRequestType: 0x00, bRequest: 9, wValue: 0, wIndex: 0, wLength: 0 });
  assert.is(device.state, 'default');
});

test('SET_INTERFACE / GET_INTERFACE through EP0: SetInterface event, alternate setting reported', async ({ device }) => {
  await device.host.controlTransfer({ bmRequestType: 0x01, bRequest: 11, wValue: 1, wIndex: 0, wLength: 0 });
  const event = await nextEvent(device);
  assert.equal([event.event, event.alternateInterface], [UsbFnEvent.SetInterface, { interfaceNumber: 0, alternateInterfaceNumber: 1 }]);
  assert.equal([...(await device.host.controlTransfer({ bmRequestType: 0x81, bRequest: 10, wValue: 0, wIndex: 0, wLength: 1 }))], [1]);
  await rejectsCode(device.host.controlTransfer({ bmRequestType: 0x01, bRequest: 11, wValue: 1, wIndex: 5, wLength: 0 }), 'USBFN_ERR_STALLED');
});

test('vendor requests are forwarded by default, stalled with forwardVendorRequests: false', async () => {
  const vendor: SetupPacket = { bmRequestType: 0x40, bRequest: 1, wValue: 0, wIndex: 0, wLength: 0 };
  await withDevice({}, async (device) => {
    const done = device.host.controlTransfer(vendor);
    assert.is((await nextEvent(device)).setupPacket?.bmRequestType, 0x40);
    await handshake(device, 'in');
    await done;
  });
  await withDevice({ forwardVendorRequests: false }, async (device) => {
    await rejectsCode(device.host.controlTransfer(vendor), 'USBFN_ERR_STALLED');
    assert.is(device.queuedEvents, 0);
  });
});

test('a class request to another interface is stalled, not forwarded', async ({ device }) => {
  await rejectsCode(device.host.controlTransfer({ ...classOut(0), wIndex: 3 }), 'USBFN_ERR_STALLED');
  assert.is(device.queuedEvents, 0);
});

test('controlTransfer checks its arguments and the bus state', async ({ device }) => {
  await rejectsCode(device.host.controlTransfer(classOut(4), pattern(3)), 'USBFN_ERR_INVALID_ARG');
  await rejectsCode(device.host.controlTransfer(classIn(4), pattern(4)), 'USBFN_ERR_INVALID_ARG');
  await rejectsCode(device.host.controlTransfer({ ...classIn(4), wLength: 70000 }), 'USBFN_ERR_INVALID_ARG');
  device.host.suspend();
  await rejectsCode(device.host.controlTransfer(classOut(0)), 'USBFN_ERR_INVALID_STATE');
});

test('EP0 data runs at EP0\'s packet size (512 at super speed)', async () => {
  const device = await configuredDevice(undefined, 'super');
  const reply = device.host.controlTransfer(classIn(1024));
  await nextEvent(device);
  await transferIn(device, 0, pattern(512), true);
  await handshake(device, 'out');
  assert.is((await reply).length, 512);
  await device.close();
});

test.run();
