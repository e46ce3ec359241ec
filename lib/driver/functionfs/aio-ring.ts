/**
 * AioRing: an AIO context's completion ring read in place, the way libaio and fio reap: the
 * kernel writes each io_event into the ring it maps into the process and then moves `tail`; the
 * reader takes events from `head` up to `tail` and stores the new `head`, which is also how the
 * kernel learns the slots are free again. AioQueue harvests through it instead of calling
 * io_getevents, one koffi call into the kernel less per wake-up: natively the bare queue reading
 * 4 KiB from /dev/zero costs ~1.5 instead of ~2.0 µs of CPU a transfer (best runs,
 * benchmarks/ffs-read-path.ts); in the TCG VM the difference is below the noise of
 * benchmarks/ffs-throughput.sh (usbfn-raw against base-raw).
 *
 * Contract: map() returns null (the caller keeps io_getevents) unless the ring's header is the
 * layout native-defs/linux-aio.ts describes. drain() never blocks and reports each event once,
 * in completion order; positions the kernel stores are checked against the ring's size, and a
 * ring found inconsistent is given up (drain() returns -1, the caller falls back). The view is
 * the kernel's mapping: nobody may drain() after io_destroy (AioQueue stops using it first).
 * Head and tail are read and written with Atomics, for the ordering the kernel's barriers pair
 * with on weakly ordered CPUs (arm64).
 */
import { AIO_RING_HEADER_SIZE, AIO_RING_WORD, IO_EVENT_SIZE, aioRingEvents, ioEventData, ioEventRes } from '../../../native-defs/linux-aio.js';
import createDebug from 'debug';
import { Errno } from './errors.js';
import type { LinuxFfi } from './linux-ffi.js';

const debug = createDebug('usbfn:ffs:aio');

/** What drain() hands each event to: the request's aio_data and its result (bytes or −errno). */
export type RingEventTaker = (data: number, res: number) => void;

export class AioRing {
  private constructor(
    private readonly words: Uint32Array,
    private readonly events: DataView,
    private readonly size: number,
  ) {}

  /** The ring of the context whose aio_context_t io_setup stored in `ctxOut`, or null (see the module comment). */
  static map(ffi: LinuxFfi, ctxOut: Uint8Array): AioRing | null {
    try {
      const size = aioRingEvents(new Uint32Array(ffi.view(ctxOut, AIO_RING_HEADER_SIZE)));
      if (size === 0) return null;
      const ring = ffi.view(ctxOut, AIO_RING_HEADER_SIZE + size * IO_EVENT_SIZE);
      return new AioRing(new Uint32Array(ring, 0, AIO_RING_HEADER_SIZE / 4), new DataView(ring, AIO_RING_HEADER_SIZE), size);
    } catch {
      return null; // no view of foreign memory here: io_getevents it is
    }
  }

  /** Hands every completed event to `take`, oldest first; returns how many, or -1 if the ring is inconsistent. */
  drain(take: RingEventTaker): number {
    const { words, events, size } = this;
    let head = Atomics.load(words, AIO_RING_WORD.head);
    let taken = 0;
    for (;;) {
      const tail = Atomics.load(words, AIO_RING_WORD.tail);
      if (head >= size || tail >= size) return -1;
      if (head === tail) return taken;
      const data = ioEventData(events, head);
      const res = ioEventRes(events, head);
      head = head + 1 === size ? 0 : head + 1;
      Atomics.store(words, AIO_RING_WORD.head, head); // the slot is free before its taker runs
      taken++;
      take(data, res);
    }
  }
}

/**
 * Takes an AIO context's completions for AioQueue: from its ring when AioRing.map() allows it
 * (and `useRing`), else with non-blocking io_getevents calls until none is left. reap() hands
 * each completion to `take` once; unmap() must come before io_destroy.
 */
export class AioReaper {
  private ring: AioRing | null;
  private readonly events: Buffer;
  private readonly eventView: DataView;
  private readonly zeroTimeout = Buffer.alloc(16); // struct timespec {0, 0}: never block

  constructor(private readonly ffi: LinuxFfi, private readonly ctx: bigint, ctxOut: Uint8Array, private readonly max: number, useRing: boolean) {
    this.ring = useRing ? AioRing.map(ffi, ctxOut) : null;
    this.events = Buffer.alloc(max * IO_EVENT_SIZE);
    this.eventView = new DataView(this.events.buffer, this.events.byteOffset, this.events.byteLength);
  }

  /** Whether completions come from the ring (false: io_getevents). */
  get fromRing(): boolean {
    return this.ring !== null;
  }

  /** Hands every completion there is now to `take`, without blocking. */
  reap(take: RingEventTaker): void {
    if (this.ring !== null) {
      if (this.ring.drain(take) >= 0) return;
      debug('the AIO completion ring is inconsistent: io_getevents from now on');
      this.ring = null;
    }
    for (;;) {
      const n = this.ffi.ioGetEvents(this.ctx, 0, this.max, this.events, this.zeroTimeout);
      if (n < 0) {
        if (this.ffi.errno() === Errno.EINTR) continue;
        return debug('io_getevents failed: errno %d', this.ffi.errno());
      }
      const count = Math.min(n, this.max);
      for (let i = 0; i < count; i++) take(ioEventData(this.eventView, i), ioEventRes(this.eventView, i));
      if (n < this.max) return;
    }
  }

  /** The context is about to go, and its ring's memory with it. */
  unmap(): void {
    this.ring = null;
  }
}
