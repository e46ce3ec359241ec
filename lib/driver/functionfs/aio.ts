/**
 * AioQueue: Linux native AIO on the event loop, no thread blocked. Each read/write is one iocb
 * submitted with IOCB_FLAG_RESFD on one eventfd; a koffi poll handle (uv_poll_t) on that eventfd
 * wakes the loop, which harvests every completion with a non-blocking io_getevents (an eventfd
 * counts, so one wake-up may stand for many completions). Several requests per fd stay in
 * flight, as FunctionFS endpoint files want for throughput.
 *
 * Contract: submit() resolves with the byte count (clamped: a count past the buffer is
 * USBFN_ERR_MALFORMED) or rejects with a coded UsbFnError carrying errno/syscall. The caller's
 * buffer is referenced until its request completes and must not change meanwhile. An aborted
 * signal asks io_cancel; the promise settles only once the kernel has let go of the buffer.
 * close() cancels everything, waits for every request to complete, then frees the context.
 */
import createDebug from 'debug';
import { decodeIoEvents, encodeIocb, IOCB_CMD_PREAD, IOCB_CMD_PWRITE, IOCB_SIZE, IO_EVENT_SIZE } from '../../../native-defs/linux-aio.js';
import { ErrorCodes, UsbFnError, canceledError } from '../../errors.js';
import { Errno, errnoError } from './errors.js';
import { EFD_NONBLOCK_CLOEXEC, linuxFfi, pollFd, type LinuxFfi } from './linux-ffi.js';

const debug = createDebug('usbfn:ffs:aio');

interface Slot {
  index: number;
  iocbAddress: bigint;
  buffer: Uint8Array | null; // kept referenced while the kernel owns it
  what: string;
  resolve: (n: number) => void;
  reject: (err: unknown) => void;
  canceledBy: unknown;
  cleanup: (() => void) | null;
}

/** Options of AioQueue. */
export interface AioQueueOptions {
  /** Requests in flight at most (io_setup's nr_events). Default 128. */
  depth?: number;
}

/** One AIO context + eventfd + poll handle; see the module comment. */
export class AioQueue {
  private readonly ffi: LinuxFfi;
  private readonly ctx: bigint;
  private readonly eventFd: number;
  private readonly iocbs: Buffer;
  private readonly pointer = Buffer.alloc(8);
  private readonly events: Buffer;
  private readonly zeroTimeout = Buffer.alloc(16); // struct timespec {0, 0}: never block
  private readonly counter = Buffer.alloc(8);
  private readonly slots: (Slot | null)[];
  private readonly free: number[] = [];
  private readonly poll: ReturnType<typeof pollFd>; // referenced here: an unreferenced handle is collected and closes
  private inFlight = 0;
  private closing: Promise<void> | null = null;
  private drained: (() => void) | null = null;

  constructor(options: AioQueueOptions = {}) {
    const depth = options.depth ?? 128;
    this.ffi = linuxFfi();
    const ctxOut = Buffer.alloc(8);
    if (this.ffi.ioSetup(depth, ctxOut) < 0) throw errnoError(this.ffi.errno(), 'io_setup', 'AIO context');
    this.ctx = ctxOut.readBigUInt64LE(0);
    this.eventFd = this.ffi.eventfd(0, EFD_NONBLOCK_CLOEXEC);
    if (this.eventFd < 0) {
      const errno = this.ffi.errno();
      this.ffi.ioDestroy(this.ctx);
      throw errnoError(errno, 'eventfd', 'AIO context');
    }
    this.iocbs = Buffer.alloc(depth * IOCB_SIZE);
    this.events = Buffer.alloc(depth * IO_EVENT_SIZE);
    this.slots = new Array<Slot | null>(depth).fill(null);
    for (let i = depth - 1; i >= 0; i--) this.free.push(i);
    this.poll = pollFd(this.eventFd, (status) => this.onWake(status));
    this.poll.unref(); // only pending requests keep the process alive
  }

  /** Requests submitted and not yet completed. */
  get pending(): number {
    return this.inFlight;
  }

  /** read(2) of up to buffer.length bytes from `fd`, asynchronously. */
  read(fd: number, buffer: Uint8Array, what: string, signal?: AbortSignal): Promise<number> {
    return this.submit(fd, IOCB_CMD_PREAD, buffer, what, signal);
  }

  /** write(2) of `data` to `fd` (a 0-byte write is a ZLP on an IN endpoint), asynchronously. */
  write(fd: number, data: Uint8Array, what: string, signal?: AbortSignal): Promise<number> {
    return this.submit(fd, IOCB_CMD_PWRITE, data, what, signal);
  }

  /** Cancels every request, waits for all to complete, frees the context. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private submit(fd: number, opcode: number, buffer: Uint8Array, what: string, signal?: AbortSignal): Promise<number> {
    if (this.closing) return Promise.reject(new UsbFnError(ErrorCodes.CLOSED, `${what}: the endpoint is closed`, { operation: what }));
    if (signal?.aborted) return Promise.reject(canceledError(what, signal.reason));
    const index = this.free.pop();
    if (index === undefined) return Promise.reject(new UsbFnError(ErrorCodes.INVALID_STATE, `${what}: more than ${this.slots.length} requests in flight`, { operation: what }));
    return new Promise<number>((resolve, reject) => {
      const iocbAddress = this.ffi.address(this.iocbs) + BigInt(index * IOCB_SIZE);
      const slot: Slot = { index, iocbAddress, buffer, what, resolve, reject, canceledBy: null, cleanup: null };
      // A 0-byte buffer may have no backing store: give the kernel address 0 with length 0.
      const buf = buffer.length > 0 ? Number(this.ffi.address(buffer)) : 0;
      encodeIocb({ data: index, opcode, fd, buf, nbytes: buffer.length, resfd: this.eventFd }, this.iocbs, index * IOCB_SIZE);
      this.pointer.writeBigUInt64LE(iocbAddress, 0);
      if (this.ffi.ioSubmit(this.ctx, 1, this.pointer) !== 1) {
        this.free.push(index);
        reject(errnoError(this.ffi.errno(), 'io_submit', what));
        return;
      }
      this.slots[index] = slot;
      if (this.inFlight++ === 0) this.poll.ref();
      if (signal) {
        const onAbort = () => this.cancel(slot, signal.reason);
        signal.addEventListener('abort', onAbort, { once: true });
        slot.cleanup = () => signal.removeEventListener('abort', onAbort);
      }
    });
  }

  /** Asks the kernel to cancel; the completion still arrives through the eventfd. */
  private cancel(slot: Slot, reason: unknown): void {
    if (this.slots[slot.index] !== slot) return;
    slot.canceledBy ??= reason ?? canceledError(slot.what);
    const rc = this.ffi.ioCancel(this.ctx, slot.iocbAddress, this.events.subarray(0, IO_EVENT_SIZE));
    debug('io_cancel %s: %d (errno %d)', slot.what, rc, rc < 0 ? this.ffi.errno() : 0);
  }

  private onWake(status: number): void {
    if (status < 0) debug('eventfd poll status %d', status);
    this.ffi.read(this.eventFd, this.counter, 8); // reset the count; harvesting below takes all
    this.harvest();
  }

  /** Takes every completed event, without blocking, until the ring is empty. */
  private harvest(): void {
    const max = this.slots.length;
    for (;;) {
      const n = this.ffi.ioGetEvents(this.ctx, 0, max, this.events, this.zeroTimeout);
      if (n < 0) {
        if (this.ffi.errno() === Errno.EINTR) continue;
        debug('io_getevents failed: errno %d', this.ffi.errno());
        return;
      }
      for (const e of decodeIoEvents(this.events, Math.min(n, max))) this.complete(e.data, e.res);
      if (n < max) return;
    }
  }

  private complete(index: number, res: number): void {
    const slot = this.slots[index];
    if (!slot) return debug('completion for unknown slot %d', index);
    this.slots[index] = null;
    this.free.push(index);
    slot.cleanup?.();
    const length = slot.buffer?.length ?? 0;
    slot.buffer = null;
    if (--this.inFlight === 0) {
      this.poll.unref();
      this.drained?.();
    }
    if (res > length) return slot.reject(new UsbFnError(ErrorCodes.MALFORMED, `${slot.what}: the kernel reported ${res} bytes for a ${length}-byte buffer`, { operation: slot.what }));
    if (res >= 0) return slot.resolve(res);
    if (slot.canceledBy !== null) return slot.reject(canceledError(slot.what, slot.canceledBy));
    slot.reject(errnoError(-res, 'io_getevents', slot.what)); // the failure surfaced as a completion
  }

  private async shutdown(): Promise<void> {
    for (const slot of this.slots) if (slot) this.cancel(slot, new UsbFnError(ErrorCodes.CLOSED, 'closed'));
    if (this.inFlight > 0) await new Promise<void>((resolve) => (this.drained = resolve));
    this.poll.close();
    this.ffi.ioDestroy(this.ctx);
    this.ffi.close(this.eventFd);
  }
}
