/**
 * BufferPool: a fixed set of equal-sized transfer buffers, allocated once as one slab and lent
 * out for one transfer at a time. A BulkPipe's reader keeps one pool per OUT pipe: each
 * TRANSFER_OUT receives into a pooled buffer, the bytes are copied out once, and the buffer
 * comes straight back, so steady-state streaming allocates no transfer buffers at all (GC was
 * 19% of run time at 64 KiB and 54% at 1 MiB with a fresh buffer per transfer).
 *
 * Pool buffers reach user code only with readBuffers 'lend', and then stay lent (counted in
 * `inUse`) until the consumer returns the chunk; otherwise nothing outside the pipe holds one.
 */
import { ErrorCodes, UsbFnError } from '../errors.js';

export interface BufferPoolStats {
  /** Bytes per buffer. */
  bufferSize: number;
  /** Buffers the pool holds at most. */
  capacity: number;
  /** Buffers currently lent out (a transfer owns each). Zero once a pipe has closed. */
  inUse: number;
  /** Allocations so far: 0 before first use, 1 (the slab) after, plus one per surrender(). */
  allocations: number;
  /** Largest `inUse` seen. */
  peakInUse: number;
}

export class BufferPool {
  private slab: Buffer | null = null;
  /** Every buffer of the pool by slot index (a surrendered one is replaced in its slot). */
  private readonly views: Buffer[] = [];
  /** 1 while the buffer in that slot is lent: a flag per slot, not a Set, on the per-transfer path. */
  private readonly lentFlags: Uint8Array;
  /** Slot indexes free to lend, used as a stack. */
  private readonly free: number[] = [];
  private lentCount = 0;
  private allocations = 0;
  private peakInUse = 0;
  private destroyed = false;

  /**
   * @param bufferSize bytes per buffer (a BulkPipe passes `readSize`, a multiple of wMaxPacketSize)
   * @param capacity buffers at most (a BulkPipe passes `readsOutstanding`)
   *
   * Nothing is allocated until the first `acquire()`: a pipe that never reads costs no memory.
   */
  constructor(readonly bufferSize: number, readonly capacity: number) {
    if (!Number.isInteger(bufferSize) || bufferSize < 1) throw new UsbFnError(ErrorCodes.INVALID_ARG, `pool buffer size must be a positive integer, got ${bufferSize}`);
    if (!Number.isInteger(capacity) || capacity < 1) throw new UsbFnError(ErrorCodes.INVALID_ARG, `pool capacity must be a positive integer, got ${capacity}`);
    this.lentFlags = new Uint8Array(capacity);
  }

  /** Buffers lent out right now. */
  get inUse(): number {
    return this.lentCount;
  }

  /** Buffers that `acquire()` could still hand out. */
  get available(): number {
    return this.destroyed ? 0 : this.capacity - this.lentCount;
  }

  get stats(): BufferPoolStats {
    return { bufferSize: this.bufferSize, capacity: this.capacity, inUse: this.inUse, allocations: this.allocations, peakInUse: this.peakInUse };
  }

  /**
   * Lends one buffer, or returns null when all are lent (the caller then waits for a release:
   * a full pool is how the reader's outstanding-read limit is enforced). Its contents are stale.
   * Throws USBFN_ERR_CLOSED after destroy().
   */
  acquire(): Buffer | null {
    if (this.destroyed) throw new UsbFnError(ErrorCodes.CLOSED, 'the buffer pool is destroyed');
    if (this.slab === null) this.allocate();
    const slot = this.free.pop();
    if (slot === undefined) return null;
    this.lentFlags[slot] = 1;
    if (++this.lentCount > this.peakInUse) this.peakInUse = this.lentCount;
    return this.views[slot];
  }

  /**
   * Takes a buffer back once its transfer has settled and its bytes have been copied out.
   * Releasing a buffer this pool did not lend (or twice) throws USBFN_ERR_INVALID_ARG: that is a bug.
   */
  release(buffer: Buffer): void {
    const slot = this.lentSlot(buffer, 'released');
    this.lentFlags[slot] = 0;
    this.lentCount--;
    if (!this.destroyed) this.free.push(slot);
    else if (this.lentCount === 0) this.views.length = 0; // the last one back: let the slab go
  }

  /**
   * Gives a lent buffer away for good (the reader pushed it to the consumer without a copy) and
   * puts a newly allocated one in its place, so the pool keeps `capacity` buffers. Counts as an
   * allocation. Surrendering a buffer this pool did not lend throws USBFN_ERR_INVALID_ARG.
   */
  surrender(buffer: Buffer): void {
    const slot = this.lentSlot(buffer, 'surrendered');
    this.lentFlags[slot] = 0;
    this.lentCount--;
    if (this.destroyed) return;
    this.views[slot] = Buffer.allocUnsafeSlow(this.bufferSize);
    this.allocations++;
    this.free.push(slot);
  }

  /** The slot index of `buffer`, a buffer of this pool (not a view of one), or -1. */
  slotOf(buffer: Uint8Array): number {
    // An identity scan of at most `capacity` (readsOutstanding, or twice that) references:
    // cheaper than reading `.buffer` / `.byteOffset` to compute it.
    return this.views.indexOf(buffer as Buffer);
  }

  /**
   * Drops the slab once every lent buffer is back (buffers released later are simply forgotten).
   * Idempotent. A BulkPipe calls it from _destroy, after every transfer has settled.
   */
  destroy(): void {
    this.destroyed = true;
    this.free.length = 0;
    this.slab = null;
    if (this.lentCount === 0) this.views.length = 0;
  }

  /** The slot of `buffer`, which must be lent; else USBFN_ERR_INVALID_ARG (a bug in the caller). */
  private lentSlot(buffer: Buffer, verb: string): number {
    const slot = this.views.indexOf(buffer);
    if (slot < 0 || this.lentFlags[slot] === 0) throw new UsbFnError(ErrorCodes.INVALID_ARG, `${verb} a buffer this pool did not lend`);
    return slot;
  }

  private allocate(): void {
    // One slab, cut into views: one allocation for the pool's lifetime, contiguous, never moved.
    this.slab = Buffer.allocUnsafeSlow(this.bufferSize * this.capacity);
    this.allocations++;
    for (let i = 0; i < this.capacity; i++) this.views.push(this.slab.subarray(i * this.bufferSize, (i + 1) * this.bufferSize));
    for (let i = this.capacity - 1; i >= 0; i--) this.free.push(i);
  }
}
