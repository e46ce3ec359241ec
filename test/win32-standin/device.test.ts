/**
 * Win32IoctlDevice through koffi and the stand-in, against fake drivers: buffers, synchronous
 * and asynchronous outcomes, error numbers, byte counts. Cancellation and close are in
 * cancel.test.ts.
 */
import koffi from 'koffi';
import * as assert from 'uvu/assert';
import { IoctlError } from '../../lib/driver/genericusbfn/ioctl-device.js';
import { ERROR_MORE_DATA } from '../../native-defs/win32-api.js';
import * as E from '../../native-defs/win32-errors.js';
import { TRANSFER_OUT, collectGarbage, echoHandler, ioctlErrorOf, openFake, parkingHandler, standin, standinSuite, until } from './helpers.js';

const test = standinSuite('win32 device: buffers and outcomes');
const pipe1 = () => Uint8Array.of(1, 0, 0, 0);

test('the driver writes into the caller\'s own buffer; the byte count resolves', async () => {
  const { dev, remove } = openFake(echoHandler(1, 0x5a));
  const out = Buffer.alloc(64);
  assert.is(await dev.ioctl(TRANSFER_OUT, pipe1(), out), 64);
  assert.ok(out.every((b) => b === 0x5a));
  await dev.close();
  remove();
});

test('a Buffer slice is passed at its own offset, and nothing around it is touched', async () => {
  const h = parkingHandler();
  const { dev, remove } = openFake(h);
  const backing = Buffer.alloc(96, 0x11);
  const slice = backing.subarray(16, 48);
  const p = dev.ioctl(TRANSFER_OUT, pipe1(), slice);
  await until(() => h.parked.length === 1, 'the request');
  assert.is(koffi.address(h.parked[0]!.output!), koffi.address(slice));
  h.parked[0]!.output!.fill(0x22);
  h.parked[0]!.resolve(32);
  assert.is(await p, 32);
  assert.ok(backing.subarray(0, 16).every((b) => b === 0x11) && backing.subarray(48).every((b) => b === 0x11));
  assert.ok(slice.every((b) => b === 0x22));
  await dev.close();
  remove();
});

test('a small on-heap typed array pending across full GCs is written where the caller reads it', async () => {
  const h = parkingHandler();
  const { dev, remove } = openFake(h);
  const out = new Uint8Array(24); // ≤ 64 bytes: V8 creates it on its heap, where GC may move it
  const input = new Uint8Array(4);
  const p = dev.ioctl(TRANSFER_OUT, input, out);
  await until(() => h.parked.length === 1, 'the request');
  const seen = koffi.address(h.parked[0]!.output!);
  collectGarbage();
  assert.is(koffi.address(out), seen, 'the array did not move after koffi took its pointer');
  h.parked[0]!.output!.fill(7);
  h.parked[0]!.resolve(24);
  assert.is(await p, 24);
  assert.ok(out.every((b) => b === 7));
  await dev.close();
  remove();
});

test('completed inside dispatch (DeviceIoControl TRUE): settled once, by the harvested packet', async () => {
  const { dev, remove } = openFake({ ioctl: (_c, _i, out) => (out!.fill(3), 5) });
  const before = standin!.stats();
  const out = new Uint8Array(8);
  assert.is(await dev.ioctl(TRANSFER_OUT, pipe1(), out), 5);
  const after = standin!.stats();
  assert.is(after.packetsPosted - before.packetsPosted, 1);
  assert.is(after.packetsDequeued - before.packetsDequeued, 1);
  assert.is(dev.pendingCount, 0);
  await dev.close();
  remove();
});

test('failed inside dispatch: rejected at once with the error, no packet queued', async () => {
  const { dev, remove } = openFake({ ioctl: () => { throw new IoctlError(E.ERROR_INVALID_PARAMETER); } });
  const before = standin!.stats();
  const err = await ioctlErrorOf(dev.ioctl(TRANSFER_OUT, pipe1(), new Uint8Array(8)));
  assert.is(err.errno, E.ERROR_INVALID_PARAMETER);
  assert.is(standin!.stats().packetsPosted, before.packetsPosted);
  assert.is(dev.pendingCount, 0);
  await dev.close();
  remove();
});

test('a warning inside dispatch (ERROR_MORE_DATA) still queues a packet: settled once, when harvested', async () => {
  const { dev, remove } = openFake({ ioctl: () => { throw new IoctlError(ERROR_MORE_DATA, 6); } });
  const before = standin!.stats();
  const p = dev.ioctl(TRANSFER_OUT, pipe1(), new Uint8Array(8));
  assert.is(dev.pendingCount, 1, 'the OVERLAPPED stays in flight until its packet is harvested');
  const err = await ioctlErrorOf(p);
  assert.is(err.errno, ERROR_MORE_DATA);
  assert.is(err.bytesReturned, 6);
  assert.is(standin!.stats().packetsDequeued - before.packetsDequeued, 1);
  await dev.close();
  remove();
});

test('a warning inside dispatch: the next request gets its own OVERLAPPED, not the one whose packet is still coming', async () => {
  const h = parkingHandler();
  let first = true;
  const { dev, remove } = openFake({
    ioctl: (code, input, output, signal) => {
      if (!first) return h.ioctl(code, input, output, signal);
      first = false;
      throw new IoctlError(ERROR_MORE_DATA, 6);
    },
  });
  const before = standin!.stats();
  const warned = ioctlErrorOf(dev.ioctl(TRANSFER_OUT, pipe1(), new Uint8Array(8)));
  let settled = false;
  const next = dev.ioctl(TRANSFER_OUT, pipe1(), new Uint8Array(8)).finally(() => (settled = true));
  assert.is((await warned).errno, ERROR_MORE_DATA);
  await until(() => standin!.stats().packetsDequeued - before.packetsDequeued >= 1, 'the warning\'s packet');
  assert.is(standin!.stats().overlappedReuse, before.overlappedReuse, 'no OVERLAPPED was reused while its packet was queued');
  assert.is(h.parked.length, 1, 'the second request reached the driver');
  assert.not.ok(settled, 'the second request is not settled by the first one\'s packet');
  h.parked[0]!.resolve(2);
  assert.is(await next, 2);
  await dev.close();
  remove();
});

const SPEC_ERRORS = [
  E.ERROR_OPERATION_ABORTED, E.ERROR_INSUFFICIENT_BUFFER, E.ERROR_DEVICE_NOT_CONNECTED, E.ERROR_GEN_FAILURE,
  E.ERROR_INVALID_PARAMETER, E.ERROR_NOT_SUPPORTED, E.ERROR_INVALID_HANDLE, E.ERROR_FILE_NOT_FOUND,
  E.ERROR_BAD_COMMAND, E.ERROR_NOT_FOUND,
];

test('every Win32 error the spec names comes back through NTSTATUS and GetOverlappedResult, with its byte count', async () => {
  const h = parkingHandler();
  const { dev, remove } = openFake(h);
  for (const [i, errno] of SPEC_ERRORS.entries()) {
    const p = dev.ioctl(TRANSFER_OUT, pipe1(), new Uint8Array(16));
    await until(() => h.parked.length === i + 1, 'the request');
    h.parked[i]!.reject(errno, i);
    const err = await ioctlErrorOf(p);
    assert.is(err.errno, errno, `errno ${errno}`);
    assert.is(err.bytesReturned, i, `bytes with ${errno}`);
  }
  await dev.close();
  remove();
});

test('ERROR_IO_PENDING is never what a request rejects with', async () => {
  const { dev, remove } = openFake({ ioctl: () => Promise.reject(new IoctlError(E.ERROR_IO_PENDING)) });
  const err = await ioctlErrorOf(dev.ioctl(TRANSFER_OUT, pipe1(), new Uint8Array(4)));
  assert.is(err.errno, E.ERROR_GEN_FAILURE);
  await dev.close();
  remove();
});

test('a byte count larger than the buffer is passed on as is (the caller clamps), never used to read', async () => {
  const { dev, remove } = openFake({ ioctl: async () => 4096 });
  const out = new Uint8Array(16);
  assert.is(await dev.ioctl(TRANSFER_OUT, pipe1(), out), 4096);
  assert.ok(out.every((b) => b === 0));
  await dev.close();
  remove();
});

test('no buffers and empty buffers reach the driver as NULL and as empty', async () => {
  const seen: [Uint8Array | null, Uint8Array | null][] = [];
  const { dev, remove } = openFake({ ioctl: async (_c, i, o) => (seen.push([i, o]), 0) });
  await dev.ioctl(0x0022c02c, null, null);
  await dev.ioctl(TRANSFER_OUT, pipe1(), new Uint8Array(0));
  assert.equal(seen[0], [null, null]);
  assert.is(seen[1]![0]!.length, 4);
  assert.is(seen[1]![1]?.length ?? 0, 0);
  await dev.close();
  remove();
});

test('arguments koffi refuses reject with ERROR_INVALID_PARAMETER and free the OVERLAPPED', async () => {
  const { dev, remove } = openFake(echoHandler());
  const err = await ioctlErrorOf(dev.ioctl(TRANSFER_OUT, pipe1(), {} as unknown as Uint8Array));
  assert.is(err.errno, E.ERROR_INVALID_PARAMETER);
  assert.is(dev.pendingCount, 0);
  await dev.close();
  remove();
});

test.run();
