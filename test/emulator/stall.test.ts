/** Per-pipe stall: SET_PIPE_STATE / GET_PIPE_STATE and what the host sees. */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { EmulatedGenericUsbFn } from '../../lib/driver/emulator/index.js';
import { CODES, IN_PIPE, OUT_PIPE, configuredDevice, pattern, pipe, rejectsCode, rejectsWin32, transferIn, transferOut } from './helpers.js';

const test = suite<{ device: EmulatedGenericUsbFn }>('stall');
test.before.each(async (ctx) => {
  ctx.device = await configuredDevice();
});
test.after.each(async (ctx) => {
  await ctx.device.close();
});

const setState = (d: EmulatedGenericUsbFn, id: number, stalled: boolean) => d.ioctl(CODES.SET_PIPE_STATE, pipe(id), Uint8Array.of(stalled ? 1 : 0));
async function getState(d: EmulatedGenericUsbFn, id: number): Promise<boolean> {
  const out = new Uint8Array(1).fill(0xaa);
  assert.is(await d.ioctl(CODES.GET_PIPE_STATE, pipe(id), out), 1);
  return out[0] === 1;
}

test('SET_PIPE_STATE TRUE halts the pipe: GET_PIPE_STATE and the host both see it', async ({ device }) => {
  assert.is(await getState(device, IN_PIPE), false);
  assert.is(await setState(device, IN_PIPE, true), 0);
  assert.is(await getState(device, IN_PIPE), true);
  assert.ok(device.host.isHalted(0x81));
  assert.not.ok(device.host.isHalted(0x01));
  await rejectsCode(device.host.bulkIn(0x81, 64), 'USBFN_ERR_STALLED');
});

test('halting fails the host\'s waiting transfer with STALLED', async ({ device }) => {
  const write = device.host.bulkOut(0x01, pattern(10));
  await setState(device, OUT_PIPE, true);
  await rejectsCode(write, 'USBFN_ERR_STALLED');
});

test('a device transfer issued on a stalled pipe fails with ERROR_GEN_FAILURE', async ({ device }) => {
  await setState(device, OUT_PIPE, true);
  await rejectsWin32(transferOut(device, OUT_PIPE, new Uint8Array(64)), 31);
});

test('device transfers pending when the pipe halts stay queued and move once it is cleared', async ({ device }) => {
  const tin = transferIn(device, IN_PIPE, pattern(5));
  await setState(device, IN_PIPE, true);
  assert.is(device.pending({ code: CODES.TRANSFER_IN }), 1);
  device.host.clearHalt(0x81);
  assert.not.ok(device.host.isHalted(0x81));
  assert.equal(await device.host.bulkIn(0x81, 64), pattern(5));
  assert.is(await tin, 5);
});

test('SET_PIPE_STATE FALSE clears the halt', async ({ device }) => {
  await setState(device, IN_PIPE, true);
  await setState(device, IN_PIPE, false);
  assert.is(await getState(device, IN_PIPE), false);
  const tin = transferIn(device, IN_PIPE, pattern(2));
  assert.equal(await device.host.bulkIn(0x81, 64), pattern(2));
  await tin;
});

test('CLEAR_FEATURE(ENDPOINT_HALT) and GET_STATUS through control transfers', async ({ device }) => {
  await setState(device, OUT_PIPE, true);
  const status = await device.host.controlTransfer({ bmRequestType: 0x82, bRequest: 0, wValue: 0, wIndex: 0x01, wLength: 2 });
  assert.equal([...status], [1, 0]);
  await device.host.controlTransfer({ bmRequestType: 0x02, bRequest: 1, wValue: 0, wIndex: 0x01, wLength: 0 });
  assert.is(await getState(device, OUT_PIPE), false);
});

test('reset and SET_CONFIGURATION clear halts', async ({ device }) => {
  await setState(device, IN_PIPE, true);
  device.host.reset('high');
  assert.is(await getState(device, IN_PIPE), false);
  device.host.configure();
  await setState(device, IN_PIPE, true);
  device.host.configure();
  assert.is(await getState(device, IN_PIPE), false);
});

test('pipe state calls check their buffers: no pipe id or an unknown one is 87, no output is 122 / 87', async ({ device }) => {
  await rejectsWin32(device.ioctl(CODES.GET_PIPE_STATE, null, new Uint8Array(1)), 87);
  await rejectsWin32(device.ioctl(CODES.GET_PIPE_STATE, pipe(7), new Uint8Array(1)), 87);
  await rejectsWin32(device.ioctl(CODES.GET_PIPE_STATE, pipe(1), new Uint8Array(0)), 122);
  await rejectsWin32(device.ioctl(CODES.SET_PIPE_STATE, pipe(1), null), 87, 'the flag is read from lpOutBuffer');
  await rejectsWin32(device.ioctl(CODES.SET_PIPE_STATE, pipe(9), Uint8Array.of(1)), 87);
});

test('pipeStateBuffer: "atLeast" (default) accepts a larger output, "exact" refuses it with 87', async ({ device }) => {
  assert.is(await device.ioctl(CODES.GET_PIPE_STATE, pipe(1), new Uint8Array(4)), 1);
  const exact = await configuredDevice({ pipeStateBuffer: 'exact' });
  await rejectsWin32(exact.ioctl(CODES.GET_PIPE_STATE, pipe(1), new Uint8Array(4)), 87);
  assert.is(await exact.ioctl(CODES.GET_PIPE_STATE, pipe(1), new Uint8Array(1)), 1);
  await exact.close();
});

test.run();
