/**
 * AioQueue: Linux native AIO on the event loop, no thread blocked. Each read/write is one iocb
 * with IOCB_FLAG_RESFD on one eventfd; a koffi poll handle (uv_poll_t) on that eventfd wakes
 * the loop, which harvests every completion from the context's completion ring, read in place
 * (AioReaper: no io_getevents call unless the kernel's ring layout is not the known one; an
 * eventfd counts, so one wake-up may stand for many completions). Several requests per fd stay
 * in flight, as FunctionFS endpoint files want for throughput.
 *
 * Per-request cost is what bounds throughput on a small or emulated CPU, so the hot path makes
 * as few native calls and allocations as it can: the iocbs live in one buffer laid out once;
 * requests made in one turn of the event loop reach the kernel in one io_submit (a microtask
 * after the first, or at the end of the harvest whose completions issued them), in request
 * order, so a fd's requests keep their order; a buffer's address is asked from koffi once per
 * ArrayBuffer; events are read in place; an AbortSignal gets one
 * listener per queue however many requests it covers (EventTarget listeners cost more than the
 * syscall under emulation: benchmarks/ffs-throughput.sh).
 *
 * Requests come two ways: read()/write() return a promise; submitTo() reports to a TransferSink
 * (FunctionFsDriver.openTransfer, the streams' path), synchronously from the harvest: no promise,
 * no reaction job, no closure per transfer. Slots are allocated once per queue and reused.
 *
 * Contract: read()/write() resolve with the byte count (clamped: a count past the buffer is
 * USBFN_ERR_MALFORMED) or rejects with a coded UsbFnError carrying errno/syscall. The caller's
 * buffer is referenced until its request completes and must not change meanwhile. An aborted
 * signal asks io_cancel (or drops a request not given to the kernel yet); the promise settles
 * only once the kernel has let go of the buffer. close() cancels everything, waits for every
 * request to complete, then frees the context.
 */
import createDebug from 'debug';
import { encodeIocb, setIocbRequest, IOCB_CMD_PREAD, IOCB_CMD_PWRITE, IOCB_SIZE, IO_EVENT_SIZE } from '../../../native-defs/linux-aio.js';
import { ErrorCodes, UsbFnError, canceledError } from '../../errors.js';
import type { TransferSink } from '../driver.js';
import { AioReaper } from './aio-ring.js';
import { PromiseSink, RESOLVED, Slot, refuseLater } from './aio-slot.js';
import { BufferAddresses } from './buffer-addresses.js';
import { Errno, errnoError } from './errors.js';
import { EFD_NONBLOCK_CLOEXEC, linuxFfi, pollFd, type LinuxFfi } from './linux-ffi.js';

const debug = createDebug('usbfn:ffs:aio');
const TWO_32 = 2 ** 32;

/** Options of AioQueue. */
export interface AioQueueOptions {
  /** Requests in flight at most (io_setup's nr_events). Default 128. */
  depth?: number;
  /** Harvest from the context's completion ring in place (AioRing) where the kernel's layout allows. Default true; false: io_getevents. */
  completionRing?: boolean;
}

/** One AIO context + eventfd + poll handle; see the module comment. */
export class AioQueue {
  /**
   * While set, called with the fd of each request that completed without error, at harvest,
   * before its promise settles (FunctionFsDriver sets it while a halt it set stands: data moved
   * on that endpoint, so the host cleared it). Null on the hot path: one test per completion.
   */
  onMoved: ((fd: number) => void) | null = null;
  private readonly ffi: LinuxFfi;
  private readonly ctx: bigint;
  private readonly eventFd: number;
  private readonly iocbs: DataView;
  private readonly iocbBase: number;
  private readonly pointers: Buffer; // the iocb * array io_submit takes
  private readonly reaper: AioReaper;
  private readonly takeEvent = (data: number, res: number): void => this.complete(data, res);
  private readonly counter = Buffer.alloc(8);
  private readonly cancelResult = Buffer.alloc(IO_EVENT_SIZE); // io_cancel's, never the harvest's events
  private readonly slots: Slot[];
  private readonly free: number[] = [];
  /** Slot indices to give to the kernel at the next flush, in request order. */
  private readonly toSubmit: number[] = [];
  private flushQueued = false;
  /** Inside harvest(): submitTo() leaves the flush to the harvest's end. */
  private harvesting = false;
  private readonly flushNow = () => this.flush();
  private readonly addresses: BufferAddresses;
  private readonly watched = new WeakMap<AbortSignal, Set<Slot>>();
  private readonly poll: ReturnType<typeof pollFd>; // referenced here: an unreferenced handle is collected and closes
  private inFlight = 0;
  private closing: Promise<void> | null = null;
  private drained: (() => void) | null = null;

  constructor(options: AioQueueOptions = {}) {
    const depth = options.depth ?? 128;
    this.ffi = linuxFfi();
    this.addresses = new BufferAddresses(this.ffi);
    const ctxOut = Buffer.alloc(8);
    if (this.ffi.ioSetup(depth, ctxOut) < 0) throw errnoError(this.ffi.errno(), 'io_setup', 'AIO context');
    this.ctx = ctxOut.readBigUInt64LE(0);
    this.eventFd = this.ffi.eventfd(0, EFD_NONBLOCK_CLOEXEC);
    if (this.eventFd < 0) {
      const errno = this.ffi.errno();
      this.ffi.ioDestroy(this.ctx);
      throw errnoError(errno, 'eventfd', 'AIO context');
    }
    const iocbs = Buffer.alloc(depth * IOCB_SIZE);
    // aio_data (the slot index), flags and resfd never change: only the request's fields do.
    for (let i = 0; i < depth; i++) encodeIocb({ data: i, opcode: IOCB_CMD_PREAD, fd: 0, buf: 0, nbytes: 0, resfd: this.eventFd }, iocbs, i * IOCB_SIZE);
    this.iocbs = new DataView(iocbs.buffer, iocbs.byteOffset, iocbs.byteLength);
    this.iocbBase = Number(this.ffi.address(iocbs));
    this.pointers = Buffer.alloc(depth * 8);
    this.reaper = new AioReaper(this.ffi, this.ctx, ctxOut, depth, options.completionRing ?? true);
    this.slots = Array.from({ length: depth }, (_, i) => new Slot(i));
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

  /**
   * Issues a read (IOCB_CMD_PREAD) or write (IOCB_CMD_PWRITE) of `buffer` on `fd` and reports it
   * to `sink` exactly once, never from within this call: the byte count (clamped as read() /
   * write() are) or the coded error they would reject with. Never throws.
   */
  submitTo(fd: number, opcode: number, buffer: Uint8Array, what: string, signal: AbortSignal | undefined, sink: TransferSink): void {
    const refusal = this.refusal(what, signal);
    if (refusal) return refuseLater(sink, refusal);
    const slot = this.slots[this.free.pop()!]!;
    slot.fd = fd;
    slot.buffer = buffer;
    slot.what = what;
    slot.sink = sink;
    slot.canceledBy = null;
    slot.queued = true;
    // A 0-byte buffer may have no backing store: give the kernel address 0 with length 0.
    setIocbRequest(this.iocbs, slot.index * IOCB_SIZE, opcode, fd, buffer.length > 0 ? this.addresses.of(buffer) : 0, buffer.length);
    if (this.inFlight++ === 0) this.poll.ref();
    if (signal) this.watch(signal, slot);
    this.toSubmit.push(slot.index);
    // During a harvest the harvest flushes at its end: requests re-issued by the completions
    // reach the kernel in one io_submit without a microtask per wake-up.
    if (!this.flushQueued && !this.harvesting) {
      this.flushQueued = true;
      void RESOLVED.then(this.flushNow); // a bare microtask: queueMicrotask adds an AsyncResource per call
    }
  }

  private submit(fd: number, opcode: number, buffer: Uint8Array, what: string, signal?: AbortSignal): Promise<number> {
    return new Promise<number>((resolve, reject) => this.submitTo(fd, opcode, buffer, what, signal, new PromiseSink(resolve, reject)));
  }

  /** Why a request cannot be issued now (closed, aborted, no free slot), or null. */
  private refusal(what: string, signal: AbortSignal | undefined): UsbFnError | null {
    if (this.closing) return new UsbFnError(ErrorCodes.CLOSED, `${what}: the endpoint is closed`, { operation: what });
    if (signal?.aborted) return canceledError(what, signal.reason);
    if (this.free.length === 0) return new UsbFnError(ErrorCodes.INVALID_STATE, `${what}: more than ${this.slots.length} requests in flight`, { operation: what });
    return null;
  }

  /** Gives every queued request to the kernel, as few io_submit calls as it takes. */
  private flush(): void {
    this.flushQueued = false;
    const queue = this.toSubmit;
    let next = 0;
    let refused: Array<[TransferSink, UsbFnError]> | null = null;
    while (next < queue.length) {
      const count = queue.length - next;
      for (let i = 0; i < count; i++) {
        const address = this.iocbBase + queue[next + i] * IOCB_SIZE;
        this.pointers.writeUInt32LE(address % TWO_32, i * 8);
        this.pointers.writeUInt32LE(Math.floor(address / TWO_32), i * 8 + 4);
      }
      const n = this.ffi.ioSubmit(this.ctx, count, this.pointers);
      const taken = n > 0 ? Math.min(n, count) : 0;
      for (let i = 0; i < taken; i++) this.slots[queue[next + i]]!.queued = false;
      next += taken;
      if (taken > 0) continue;
      // The kernel stops at the first iocb it refuses: that one fails, the rest go on. Its sink
      // hears after the loop: what it does (submit, abort) must not change the queue under it.
      const slot = this.slots[queue[next++]]!;
      const error = errnoError(n < 0 ? this.ffi.errno() : Errno.EAGAIN, 'io_submit', slot.what);
      (refused ??= []).push([this.finish(slot), error]);
    }
    queue.length = 0;
    if (refused) for (const [sink, error] of refused) sink.transferFailed(error);
  }

  /** One abort listener per signal, covering every request of it that is pending. */
  private watch(signal: AbortSignal, slot: Slot): void {
    let watchers = this.watched.get(signal);
    if (!watchers) {
      const set = (watchers = new Set<Slot>());
      this.watched.set(signal, set);
      signal.addEventListener('abort', () => {
        // A slot whose request ended meanwhile may carry another signal's request now: skip it.
        for (const s of [...set]) if (s.watchers === set) this.cancel(s, signal.reason);
      }, { once: true });
    }
    watchers.add(slot);
    slot.watchers = watchers;
  }

  /** Asks the kernel to cancel (the completion still arrives through the eventfd), or drops a request it has not seen yet. */
  private cancel(slot: Slot, reason: unknown): void {
    if (slot.sink === null) return;
    slot.canceledBy ??= reason ?? canceledError(slot.what);
    if (slot.queued) {
      this.toSubmit.splice(this.toSubmit.indexOf(slot.index), 1);
      const canceledBy = slot.canceledBy;
      return this.finish(slot).transferFailed(canceledError(slot.what, canceledBy));
    }
    const rc = this.ffi.ioCancel(this.ctx, BigInt(this.iocbBase + slot.index * IOCB_SIZE), this.cancelResult);
    debug('io_cancel %s: %d (errno %d)', slot.what, rc, rc < 0 ? this.ffi.errno() : 0);
  }

  private onWake(status: number): void {
    if (status < 0) debug('eventfd poll status %d', status);
    this.ffi.read(this.eventFd, this.counter, 8); // reset the count; harvesting below takes all
    this.harvest();
  }

  /**
   * Takes every completed event, without blocking, until the ring is empty, then gives the
   * kernel whatever the completions' sinks issued meanwhile.
   */
  private harvest(): void {
    this.harvesting = true;
    try {
      this.reaper.reap(this.takeEvent);
    } finally {
      this.harvesting = false;
      if (this.toSubmit.length > 0 && !this.flushQueued) this.flush();
    }
  }

  private complete(index: number, res: number): void {
    const slot = this.slots[index];
    if (!slot || slot.sink === null || slot.queued) return debug('completion for unknown slot %d', index);
    const length = slot.buffer?.length ?? 0;
    const { what, canceledBy, fd } = slot;
    const sink = this.finish(slot);
    if (res > length) return sink.transferFailed(new UsbFnError(ErrorCodes.MALFORMED, `${what}: the kernel reported ${res} bytes for a ${length}-byte buffer`, { operation: what }));
    if (res >= 0) {
      this.onMoved?.(fd);
      return sink.transferred(res);
    }
    if (canceledBy !== null) return sink.transferFailed(canceledError(what, canceledBy));
    sink.transferFailed(errnoError(-res, 'io_getevents', what)); // the failure surfaced as a completion
  }

  /**
   * Frees a slot whose request is over (completed, refused or dropped), before its sink hears
   * (which may issue the next request into it); returns the sink, for the caller to settle.
   */
  private finish(slot: Slot): TransferSink {
    const sink = slot.sink!;
    slot.sink = null;
    this.free.push(slot.index);
    slot.watchers?.delete(slot);
    slot.watchers = null;
    slot.buffer = null;
    slot.canceledBy = null;
    if (--this.inFlight === 0) {
      this.poll.unref();
      this.drained?.();
    }
    return sink;
  }

  private async shutdown(): Promise<void> {
    for (const slot of this.slots) if (slot.sink) this.cancel(slot, new UsbFnError(ErrorCodes.CLOSED, 'closed'));
    if (this.inFlight > 0) await new Promise<void>((resolve) => (this.drained = resolve));
    this.poll.close();
    this.reaper.unmap();
    this.ffi.ioDestroy(this.ctx);
    this.ffi.close(this.eventFd);
  }
}
