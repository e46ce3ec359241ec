/** Reset, detach, unconfigure, AbortSignal and close cancel pending requests with 995. */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { UsbFnEvent } from '../../native-defs/enums.js';
import { CODES, IN_PIPE, OUT_PIPE, configuredDevice, nextEvent, pattern, rejectsCode, rejectsWin32, transferIn, transferOut } from './helpers.js';

const test = suite('cancellation');

test('reset: pending TRANSFER_IN/OUT complete with ERROR_OPERATION_ABORTED; new ones are refused until Configured', async () => {
  const device = await configuredDevice();
  const tin = transferIn(device, IN_PIPE, pattern(10));
  const tout = transferOut(device, OUT_PIPE, new Uint8Array(512));
  device.host.reset('high');
  await rejectsWin32(tin, 995);
  await rejectsWin32(tout, 995);
  await rejectsWin32(transferIn(device, IN_PIPE, pattern(1)), 22);
  device.host.configure();
  const again = transferIn(device, IN_PIPE, pattern(3));
  assert.equal(await device.host.bulkIn(0x81, 64), pattern(3));
  assert.is(await again, 3);
  await device.close();
});

test('a partly sent TRANSFER_IN reports the bytes already taken when cancelled', async () => {
  const device = await configuredDevice();
  const tin = transferIn(device, IN_PIPE, pattern(2048));
  await device.host.bulkIn(0x81, 512);
  device.host.reset('high');
  const err = await rejectsWin32(tin, 995);
  assert.is(err.bytesReturned, 512);
  await device.close();
});

test('the host\'s pending bulk calls reject USBFN_ERR_CANCELED on reset', async () => {
  const device = await configuredDevice();
  const read = device.host.bulkIn(0x81, 64);
  const write = device.host.bulkOut(0x01, pattern(10));
  device.host.reset('high');
  await rejectsCode(read, 'USBFN_ERR_CANCELED');
  await rejectsCode(write, 'USBFN_ERR_CANCELED');
  await device.close();
});

test('detach cancels device transfers (995) and rejects host calls with USBFN_ERR_DISCONNECTED', async () => {
  const device = await configuredDevice();
  const tout = transferOut(device, OUT_PIPE, new Uint8Array(64));
  const read = device.host.bulkIn(0x81, 64);
  device.host.detach();
  await rejectsWin32(tout, 995);
  await rejectsCode(read, 'USBFN_ERR_DISCONNECTED');
  await rejectsCode(device.host.bulkOut(0x01, pattern(1)), 'USBFN_ERR_DISCONNECTED');
  await rejectsWin32(transferIn(device, IN_PIPE, pattern(1)), 22);
  await device.close();
});

test('UnConfigured cancels data transfers but the device stays on the bus', async () => {
  const device = await configuredDevice();
  const tin = transferIn(device, IN_PIPE, pattern(10));
  device.host.unconfigure();
  await rejectsWin32(tin, 995);
  assert.is(device.state, 'default');
  assert.is((await nextEvent(device)).event, UsbFnEvent.UnConfigured);
  await rejectsCode(device.host.bulkIn(0x81, 8), 'USBFN_ERR_INVALID_STATE');
  await device.close();
});

test('an AbortSignal cancels one TRANSFER_OUT with 995; the others keep their place', async () => {
  const device = await configuredDevice();
  const ac = new AbortController();
  const a = transferOut(device, OUT_PIPE, new Uint8Array(64), ac.signal);
  const b = transferOut(device, OUT_PIPE, new Uint8Array(64));
  ac.abort();
  await rejectsWin32(a, 995);
  await device.host.bulkOut(0x01, pattern(5));
  assert.is(await b, 5);
  await device.close();
});

test('an already-aborted signal completes the request with 995 without running it', async () => {
  const device = await configuredDevice();
  const ac = new AbortController();
  ac.abort();
  await rejectsWin32(transferIn(device, IN_PIPE, pattern(1), false, ac.signal), 995);
  await rejectsWin32(device.ioctl(CODES.NOTIFICATION, null, new Uint8Array(12), ac.signal), 995);
  assert.is(device.pending(), 0);
  await device.close();
});

test('an AbortSignal cancels a pending notification; the next event goes to the next one', async () => {
  const device = await configuredDevice();
  const ac = new AbortController();
  const first = nextEvent(device, ac.signal);
  ac.abort();
  await rejectsWin32(first, 995);
  device.host.suspend();
  assert.is((await nextEvent(device)).event, UsbFnEvent.Suspend);
  await device.close();
});

test('a host AbortSignal rejects bulkIn with USBFN_ERR_CANCELED and frees the endpoint', async () => {
  const device = await configuredDevice();
  const ac = new AbortController();
  const read = device.host.bulkIn(0x81, 64, { signal: ac.signal });
  ac.abort();
  await rejectsCode(read, 'USBFN_ERR_CANCELED');
  const tin = transferIn(device, IN_PIPE, pattern(4));
  assert.equal(await device.host.bulkIn(0x81, 64), pattern(4));
  await tin;
  await device.close();
});

test('host bulk calls can time out (USBFN_ERR_TIMEOUT)', async () => {
  const device = await configuredDevice();
  await rejectsCode(device.host.bulkIn(0x81, 64, { timeoutMs: 5 }), 'USBFN_ERR_TIMEOUT');
  await rejectsCode(device.host.bulkOut(0x01, pattern(1), { timeoutMs: 5 }), 'USBFN_ERR_TIMEOUT');
  await device.close();
});

test('suspend pauses the bus: pending transfers wait, host calls are refused, resume continues', async () => {
  const device = await configuredDevice();
  const read = device.host.bulkIn(0x81, 64);
  device.host.suspend();
  const tin = transferIn(device, IN_PIPE, pattern(4)); // allowed: still configured
  await rejectsCode(device.host.bulkOut(0x01, pattern(1)), 'USBFN_ERR_INVALID_STATE');
  assert.is(device.pending({ code: CODES.TRANSFER_IN }), 1);
  device.host.resume();
  assert.equal(await read, pattern(4));
  await tin;
  await device.close();
});

test.run();
