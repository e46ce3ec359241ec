/**
 * GenericUsbFnDriver → koffi → stand-in → emulator: what only this path can break. The shared
 * suites (test/contract, test/stream) run on it too, through test/backends.ts.
 */
import { stat } from 'node:fs/promises';
import * as assert from 'uvu/assert';
import { emulatorBackend, type BackendStack, type TestBackend } from '../backends.js';
import { BULK_IN, BULK_OUT, bytes, configured, pipeIdOf, takeUntil, withStack } from '../contract/helpers.js';
import { codeForWin32 } from '../../lib/driver/genericusbfn/errors.js';
import { isUsbFnError, type UsbFnError } from '../../lib/errors.js';
import * as IOCTL from '../../native-defs/ioctl.js';
import * as E from '../../native-defs/win32-errors.js';
import { standinBackend } from './backend.js';
import { standin, standinSuite, until } from './helpers.js';

const test = standinSuite('koffi path: driver → koffi → stand-in → emulator');
const NOTIFY = IOCTL.IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION;

async function failure(p: Promise<unknown>): Promise<UsbFnError> {
  try {
    await p;
  } catch (err) {
    assert.ok(isUsbFnError(err), `a UsbFnError, not ${String(err)}`);
    return err as UsbFnError;
  }
  throw new Error('expected a rejection');
}

test('bus notifications stay pending through 1000 transfers, then deliver the next event', () =>
  withStack(standinBackend, async (s) => {
    await configured(s);
    assert.ok(s.device.pending({ code: NOTIFY }) >= 1, 'notifications pending');
    const [inPipe, outPipe] = [await pipeIdOf(s, BULK_IN), await pipeIdOf(s, BULK_OUT)];
    for (let round = 0; round < 50; round++) {
      const bufs = Array.from({ length: 10 }, () => new Uint8Array(512));
      const reads = bufs.map((b) => s.driver.transferOut(outPipe, b));
      const writes = Array.from({ length: 10 }, (_, i) => s.driver.transferIn(inPipe, bytes(512, round + i)));
      for (let i = 0; i < 10; i++) await s.host.bulkOut(BULK_OUT, bytes(512, i));
      for (let i = 0; i < 10; i++) assert.equal(await s.host.bulkIn(BULK_IN, 512), bytes(512, round + i));
      assert.equal(await Promise.all(reads), bufs.map(() => 512));
      await Promise.all(writes);
      bufs.forEach((b, i) => assert.equal(b, bytes(512, i)));
    }
    assert.ok(s.device.pending({ code: NOTIFY }) >= 1, 'still pending after the transfers');
    const t0 = performance.now();
    await stat('.');
    assert.ok(performance.now() - t0 < 200, 'libuv pool not starved by pending notifications');
    s.host.reset('full');
    const seen = await takeUntil(s, 'reset');
    assert.equal(seen.at(-1), { type: 'reset', speed: 'full' });
  }));

test('128 TRANSFER_OUTs pending at once through the driver all complete with their own bytes', () =>
  withStack(standinBackend, async (s) => {
    await configured(s);
    const pipe = await pipeIdOf(s, BULK_OUT);
    const bufs = Array.from({ length: 128 }, () => new Uint8Array(64));
    const reads = bufs.map((b) => s.driver.transferOut(pipe, b));
    await until(() => s.device.pending({ pipeId: pipe }) === 128, '128 pending in the emulator');
    for (let i = 0; i < 128; i++) await s.host.bulkOut(BULK_OUT, bytes(64, i));
    assert.equal(await Promise.all(reads), bufs.map(() => 64));
    bufs.forEach((b, i) => assert.equal(b, bytes(64, i)));
  }));

const SPEC_ERRORS = [E.ERROR_OPERATION_ABORTED, E.ERROR_INSUFFICIENT_BUFFER, E.ERROR_DEVICE_NOT_CONNECTED, E.ERROR_GEN_FAILURE,
  E.ERROR_INVALID_PARAMETER, E.ERROR_NOT_SUPPORTED, E.ERROR_INVALID_HANDLE, E.ERROR_FILE_NOT_FOUND, E.ERROR_BAD_COMMAND];

/** What the driver reports for a GET_PIPE_STATE failing with `errno` on `backend`. */
async function pipeStateFailure(backend: TestBackend, errno: number, at: 'issue' | 'completion'): Promise<[string, number | undefined]> {
  let out: [string, number | undefined] = ['', undefined];
  await withStack(backend, async (s: BackendStack) => {
    await configured(s);
    s.device.injectFault({ code: IOCTL.IOCTL_GENERICUSBFN_GET_PIPE_STATE, errno, at });
    const err = await failure(s.driver.getPipeState(await pipeIdOf(s, BULK_IN)));
    out = [err.code, err.win32Error];
  });
  return out;
}

test('every Win32 error the spec names maps to the same UsbFnError as on the direct emulator', async () => {
  for (const errno of SPEC_ERRORS) {
    for (const at of ['issue', 'completion'] as const) {
      const viaKoffi = await pipeStateFailure(standinBackend, errno, at);
      assert.equal(viaKoffi, await pipeStateFailure(emulatorBackend, errno, at), `errno ${errno} at ${at}`);
      assert.equal(viaKoffi, [codeForWin32(errno), errno]);
    }
  }
});

test('a byte count larger than the buffer is USBFN_ERR_MALFORMED, never a read past it', () =>
  withStack(standinBackend, async (s) => {
    await configured(s);
    s.device.injectFault({ code: IOCTL.IOCTL_GENERICUSBFN_TRANSFER_OUT, errno: 0, bytesReturned: 1 << 20, at: 'completion' });
    const buf = new Uint8Array(512);
    const p = s.driver.transferOut(await pipeIdOf(s, BULK_OUT), buf);
    await s.host.bulkOut(BULK_OUT, bytes(100));
    assert.is((await failure(p)).code, 'USBFN_ERR_MALFORMED');
  }));

test('close with transfers and notifications pending: all settle, nothing left in the stand-in', async () => {
  const before = standin!.stats();
  const s = await standinBackend.create();
  await configured(s);
  const pipe = await pipeIdOf(s, BULK_OUT);
  const reads = Array.from({ length: 40 }, () => s.driver.transferOut(pipe, new Uint8Array(512)).catch((e: UsbFnError) => e.code));
  await until(() => s.device.pending({ pipeId: pipe }) === 40, 'the transfers');
  await s.close();
  for (const code of await Promise.all(reads)) assert.ok(code === 'USBFN_ERR_CANCELED' || code === 'USBFN_ERR_CLOSED', String(code));
  assert.is(s.device.pending(), 0);
  const after = standin!.stats();
  assert.ok(after.requestsOutstanding <= before.requestsOutstanding, 'nothing of ours outstanding'); // others may hold some
  assert.ok(after.handlesOpen <= before.handlesOpen);
  assert.is(after.packetsPosted - before.packetsPosted, after.packetsDequeued - before.packetsDequeued);
});

test.run();
