/**
 * The libc calls the FunctionFS backend makes through koffi: Linux AIO through `syscall()`
 * (glibc has no io_submit wrapper), eventfd, ioctl, read/write/close. Loaded on first use only:
 * importing usbfn, or this module's callers before they open a FunctionFS device, maps no
 * native code. Every call is synchronous and returns −errno-free results: failures come back as
 * { errno } so callers build coded errors with the syscall's name.
 */
import koffi, { type node as KoffiNode } from 'koffi';
import { aioSyscalls, type AioSyscalls } from '../../../native-defs/linux-aio.js';
import { ErrorCodes, UsbFnError } from '../../errors.js';

/** The calls, as thin typed wrappers. Each returns the C result (−1 on failure: read errno()). */
export interface LinuxFfi {
  nr: AioSyscalls;
  ioSetup(maxEvents: number, ctxOut: Uint8Array): number;
  ioDestroy(ctx: bigint): number;
  ioSubmit(ctx: bigint, count: number, iocbPointers: Uint8Array): number;
  ioCancel(ctx: bigint, iocb: bigint, result: Uint8Array): number;
  ioGetEvents(ctx: bigint, minNr: number, maxNr: number, events: Uint8Array, timeout: Uint8Array | null): number;
  eventfd(initval: number, flags: number): number;
  read(fd: number, buf: Uint8Array | null, count: number): number;
  write(fd: number, buf: Uint8Array | null, count: number): number;
  ioctl(fd: number, request: number, arg: bigint): number;
  close(fd: number): number;
  /** errno of the last failed call on this thread. */
  errno(): number;
  /** The address of a buffer's bytes, as the kernel takes it in an iocb. */
  address(buf: Uint8Array): bigint;
  /**
   * The `bytes` of memory at the address stored in `pointerAt` (8 bytes, as io_setup leaves an
   * aio_context_t), without a copy: the AIO completion ring. Valid until that memory goes.
   */
  view(pointerAt: Uint8Array, bytes: number): ArrayBuffer;
}

/** EFD_NONBLOCK | EFD_CLOEXEC (same values as O_NONBLOCK | O_CLOEXEC on the supported targets). */
export const EFD_NONBLOCK_CLOEXEC = 0o4000 | 0o2000000;

let loaded: LinuxFfi | null = null;

/** Loads libc through koffi once; throws USBFN_ERR_PLATFORM off Linux or on an unknown CPU. */
export function linuxFfi(): LinuxFfi {
  if (loaded) return loaded;
  if (process.platform !== 'linux') throw new UsbFnError(ErrorCodes.PLATFORM, `FunctionFS needs Linux, this is ${process.platform}`);
  const nr = aioSyscalls(process.arch);
  if (!nr) throw new UsbFnError(ErrorCodes.PLATFORM, `the FunctionFS backend does not know the AIO syscall numbers of ${process.arch}`);
  const libc = koffi.load('libc.so.6');
  // syscall() is variadic; on x86-64/arm64/riscv64 Linux integer and pointer arguments travel
  // in the same registers either way, so fixed prototypes are exact and far cheaper per call.
  const sc2 = libc.func('syscall', 'long', ['long', 'long', 'void *']);
  const sc1 = libc.func('syscall', 'long', ['long', 'uint64']);
  const sc3 = libc.func('syscall', 'long', ['long', 'uint64', 'long', 'void *']);
  const scCancel = libc.func('syscall', 'long', ['long', 'uint64', 'uint64', 'void *']);
  const scGet = libc.func('syscall', 'long', ['long', 'uint64', 'long', 'long', 'void *', 'void *']);
  const eventfd = libc.func('int eventfd(unsigned int initval, int flags)');
  const read = libc.func('long read(int fd, void *buf, size_t count)');
  const write = libc.func('long write(int fd, void *buf, size_t count)');
  const ioctl = libc.func('ioctl', 'int', ['int', 'ulong', 'uint64']);
  const close = libc.func('int close(int fd)');
  const n = (v: unknown) => Number(v);
  loaded = {
    nr,
    ioSetup: (maxEvents, ctxOut) => n(sc2(nr.io_setup, maxEvents, ctxOut)),
    ioDestroy: (ctx) => n(sc1(nr.io_destroy, ctx)),
    ioSubmit: (ctx, count, ptrs) => n(sc3(nr.io_submit, ctx, count, ptrs)),
    ioCancel: (ctx, iocb, result) => n(scCancel(nr.io_cancel, ctx, iocb, result)),
    ioGetEvents: (ctx, minNr, maxNr, events, timeout) => n(scGet(nr.io_getevents, ctx, minNr, maxNr, events, timeout)),
    eventfd: (initval, flags) => n(eventfd(initval, flags)),
    read: (fd, buf, count) => n(read(fd, buf, count)),
    write: (fd, buf, count) => n(write(fd, buf, count)),
    ioctl: (fd, request, arg) => n(ioctl(fd, request, arg)),
    close: (fd) => n(close(fd)),
    errno: () => koffi.errno(),
    address: (buf) => koffi.address(buf),
    view: (pointerAt, bytes) => koffi.view(koffi.decode(pointerAt, 'void *'), bytes),
  };
  return loaded;
}

/** koffi's fd poll (libuv uv_poll_t): the event loop watches an fd, no thread is blocked. */
export function pollFd(fd: number, onReadable: (status: number) => void): KoffiNode.PollHandle {
  // The callback receives (status, events) although the typings say (events).
  const cb = ((status: number) => onReadable(status)) as unknown as (ev: KoffiNode.PollEvents) => void;
  return koffi.node.poll(fd, { readable: true }, cb);
}
