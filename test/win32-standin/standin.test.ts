/**
 * The stand-in itself, called through the same koffi declarations as the backend: it must behave
 * as kernel32 does where the backend depends on it (status words, ports, errors), and refuse
 * what would be memory corruption on Windows, so that passing tests mean something.
 */
import koffi from 'koffi';
import * as assert from 'uvu/assert';
import { INVALID_HANDLE_VALUE, OVERLAPPED_LAYOUT, OVERLAPPED_ENTRY_LAYOUT, kernel32, readPointer } from '../../lib/driver/genericusbfn/win32-ffi.js';
import {
  ERROR_ACCESS_DENIED, ERROR_IO_INCOMPLETE, FILE_FLAG_OVERLAPPED, GENERIC_READ, GENERIC_WRITE, INFINITE,
  OPEN_EXISTING, STATUS_PENDING, WAIT_TIMEOUT,
} from '../../native-defs/win32-api.js';
import * as E from '../../native-defs/win32-errors.js';
import { GUID, TRANSFER_OUT, parkingHandler, standin, standinSuite, until } from './helpers.js';

const test = standinSuite('win32 stand-in: kernel32 semantics');
const RW = (GENERIC_READ | GENERIC_WRITE) >>> 0;
let serial = 0;

function openRaw(access = RW, flags = FILE_FLAG_OVERLAPPED) {
  const h = parkingHandler();
  const link = `\\\\?\\USBFN#Raw#${process.pid}&${++serial}`;
  const id = standin!.addInterface(GUID, link, h);
  const k = kernel32();
  const handle = k.CreateFileW(link, access, 3, null, OPEN_EXISTING, flags, null);
  return { k, h, handle: handle!, id };
}

function overlapped() {
  const address = koffi.alloc('uint8_t', OVERLAPPED_LAYOUT.size) as bigint;
  const view = new DataView(koffi.view(address, OVERLAPPED_LAYOUT.size));
  return { address, status: () => view.getUint32(OVERLAPPED_LAYOUT.internal, true), free: () => koffi.free(address) };
}

test('CreateFileW of a link that is not present: INVALID_HANDLE_VALUE and ERROR_FILE_NOT_FOUND', () => {
  const k = kernel32();
  assert.is(k.CreateFileW('\\\\?\\absent', RW, 3, null, OPEN_EXISTING, FILE_FLAG_OVERLAPPED, null), INVALID_HANDLE_VALUE);
  assert.is(k.GetLastError(), E.ERROR_FILE_NOT_FOUND);
});

test('Internal reads STATUS_PENDING while in flight; GetOverlappedResult says ERROR_IO_INCOMPLETE', async () => {
  const { k, h, handle } = openRaw();
  const ov = overlapped();
  const cell = Buffer.alloc(4);
  assert.is(k.DeviceIoControl(handle, TRANSFER_OUT, null, 0, null, 0, null, ov.address), 0);
  assert.is(k.GetLastError(), E.ERROR_IO_PENDING);
  assert.is(ov.status(), STATUS_PENDING);
  assert.is(k.GetOverlappedResult(handle, ov.address, cell as unknown as bigint, 0), 0);
  assert.is(k.GetLastError(), ERROR_IO_INCOMPLETE);
  h.parked[0]!.reject(E.ERROR_DEVICE_NOT_CONNECTED, 2);
  await until(() => ov.status() !== STATUS_PENDING, 'the completion thread');
  assert.is(ov.status(), 0xc000009d, 'STATUS_DEVICE_NOT_CONNECTED');
  assert.is(k.GetOverlappedResult(handle, ov.address, cell as unknown as bigint, 0), 0);
  assert.is(k.GetLastError(), E.ERROR_DEVICE_NOT_CONNECTED);
  assert.is(cell.readUInt32LE(0), 2);
  k.CloseHandle(handle);
  ov.free();
});

test('an OVERLAPPED still in flight is refused for a second request (and counted)', () => {
  const { k, h, handle } = openRaw();
  const ov = overlapped();
  const before = standin!.stats().overlappedReuse;
  k.DeviceIoControl(handle, TRANSFER_OUT, null, 0, null, 0, null, ov.address);
  assert.is(k.DeviceIoControl(handle, TRANSFER_OUT, null, 0, null, 0, null, ov.address), 0);
  assert.is(k.GetLastError(), E.ERROR_INVALID_PARAMETER);
  assert.is(standin!.stats().overlappedReuse, before + 1);
  assert.is(h.parked.length, 1);
  k.CloseHandle(handle); // cancels the first; the parking driver answers 995
  // the OVERLAPPED stays allocated: its completion may still be written (no port to wait on here)
});

test('handles opened without FILE_FLAG_OVERLAPPED or without write access are refused', () => {
  const ov = overlapped();
  const sync = openRaw(RW, 0);
  assert.is(sync.k.DeviceIoControl(sync.handle, TRANSFER_OUT, null, 0, null, 0, null, ov.address), 0);
  assert.is(sync.k.GetLastError(), E.ERROR_INVALID_PARAMETER);
  sync.k.CloseHandle(sync.handle);
  const ro = openRaw(GENERIC_READ >>> 0);
  assert.is(ro.k.DeviceIoControl(ro.handle, TRANSFER_OUT, null, 0, null, 0, null, ov.address), 0);
  assert.is(ro.k.GetLastError(), ERROR_ACCESS_DENIED);
  ro.k.CloseHandle(ro.handle);
  ov.free();
});

test('CancelIoEx: ERROR_NOT_FOUND for nothing in flight, ERROR_INVALID_HANDLE for a closed handle', () => {
  const { k, handle } = openRaw();
  const ov = overlapped();
  assert.is(k.CancelIoEx(handle, ov.address), 0);
  assert.is(k.GetLastError(), E.ERROR_NOT_FOUND);
  k.CloseHandle(handle);
  assert.is(k.CancelIoEx(handle, null), 0);
  assert.is(k.GetLastError(), E.ERROR_INVALID_HANDLE);
  assert.is(k.CloseHandle(handle), 0, 'closing twice fails');
  ov.free();
});

test('a completion port: zero timeout when empty is WAIT_TIMEOUT; a posted packet comes back whole', () => {
  const k = kernel32();
  const port = k.CreateIoCompletionPort(INVALID_HANDLE_VALUE, null, 0, 0)!;
  const entries = koffi.alloc('uint8_t', OVERLAPPED_ENTRY_LAYOUT.size * 4) as bigint;
  const view = new DataView(koffi.view(entries, OVERLAPPED_ENTRY_LAYOUT.size * 4));
  const removed = Buffer.alloc(4);
  assert.is(k.GetQueuedCompletionStatusEx(port, entries, 4, removed as unknown as bigint, 0, 0), 0);
  assert.is(k.GetLastError(), WAIT_TIMEOUT);
  assert.ok(k.PostQueuedCompletionStatus(port, 77, 42, 0x1234n));
  assert.ok(k.GetQueuedCompletionStatusEx(port, entries, 4, removed as unknown as bigint, 0, 0));
  assert.is(removed.readUInt32LE(0), 1);
  assert.is(readPointer(view, OVERLAPPED_ENTRY_LAYOUT.key), 42);
  assert.is(readPointer(view, OVERLAPPED_ENTRY_LAYOUT.overlapped), 0x1234);
  assert.is(view.getUint32(OVERLAPPED_ENTRY_LAYOUT.bytes, true), 77);
  k.CloseHandle(port);
  koffi.free(entries);
});

test('closing a port wakes a thread blocked on it with ERROR_ABANDONED_WAIT_0', async () => {
  const k = kernel32();
  const port = k.CreateIoCompletionPort(INVALID_HANDLE_VALUE, null, 0, 0)!;
  const entries = koffi.alloc('uint8_t', OVERLAPPED_ENTRY_LAYOUT.size) as bigint;
  const removed = koffi.alloc('uint32_t', 1) as bigint;
  const done = new Promise<number>((resolve) => k.GetQueuedCompletionStatusEx.async(port, entries, 1, removed, INFINITE, 0, (_e, ok) => resolve(ok)));
  await new Promise((r) => setTimeout(r, 10));
  k.CloseHandle(port);
  assert.is(await done, 0);
  koffi.free(entries);
  koffi.free(removed);
  // FALSE; its last error (ERROR_ABANDONED_WAIT_0) belongs to koffi's worker thread, not this one.
});

test('on a handle bound to a port the status block stays STATUS_PENDING until its packet is dequeued', async () => {
  const { k, h, handle } = openRaw();
  const port = k.CreateIoCompletionPort(INVALID_HANDLE_VALUE, null, 0, 0)!;
  assert.ok(k.CreateIoCompletionPort(handle, port, 7, 0));
  const entries = koffi.alloc('uint8_t', OVERLAPPED_ENTRY_LAYOUT.size) as bigint;
  const removed = Buffer.alloc(4);
  const ov = overlapped();
  const before = standin!.stats().packetsPosted;
  k.DeviceIoControl(handle, TRANSFER_OUT, null, 0, null, 0, null, ov.address);
  h.parked[0]!.resolve(3);
  await until(() => standin!.stats().packetsPosted === before + 1, 'the packet');
  assert.is(ov.status(), STATUS_PENDING, 'completed, but not yet dequeued');
  assert.ok(k.GetQueuedCompletionStatusEx(port, entries, 1, removed as unknown as bigint, 0, 0));
  assert.is(ov.status(), 0, 'written by the dequeue');
  k.CloseHandle(handle);
  k.CloseHandle(port);
  koffi.free(entries);
  ov.free();
});

test('a second completion of one request is refused and counted, never applied', async () => {
  const { k, h, handle } = openRaw();
  const ov = overlapped();
  k.DeviceIoControl(handle, TRANSFER_OUT, null, 0, null, 0, null, ov.address);
  const token = standin!.lastToken;
  const before = standin!.stats().badCompletions;
  h.parked[0]!.resolve(1);
  await until(() => ov.status() !== STATUS_PENDING, 'the completion');
  assert.is(standin!.completeRaw(token, E.ERROR_GEN_FAILURE, 9), -1);
  assert.is(standin!.stats().badCompletions, before + 1);
  assert.is(ov.status(), 0, 'the first completion stands');
  k.CloseHandle(handle);
  ov.free();
});

test.run();
