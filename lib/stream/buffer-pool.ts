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
  private readonly free: Buffer[] = [];
  private readonly lent = new Set<Buffer>();
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
  }

  /** Buffers lent out right now. */
  get inUse(): number {
    return this.lent.size;
  }

  /** Buffers that `acquire()` could still hand out. */
  get available(): number {
    return this.destroyed ? 0 : this.capacity - this.lent.size;
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
    const buffer = this.free.pop();
    if (buffer === undefined) return null;
    this.lent.add(buffer);
    if (this.lent.size > this.peakInUse) this.peakInUse = this.lent.size;
    return buffer;
  }

  /**
   * Takes a buffer back once its transfer has settled and its bytes have been copied out.
   * Releasing a buffer this pool did not lend (or twice) throws USBFN_ERR_INVALID_ARG: that is a bug.
   */
  release(buffer: Buffer): void {
    if (!this.lent.delete(buffer)) throw new UsbFnError(ErrorCodes.INVALID_ARG, 'released a buffer this pool did not lend');
    if (!this.destroyed) this.free.push(buffer);
  }

  /**
   * Gives a lent buffer away for good (the reader pushed it to the consumer without a copy) and
   * puts a newly allocated one in its place, so the pool keeps `capacity` buffers. Counts as an
   * allocation. Surrendering a buffer this pool did not lend throws USBFN_ERR_INVALID_ARG.
   */
  surrender(buffer: Buffer): void {
    if (!this.lent.delete(buffer)) throw new UsbFnError(ErrorCodes.INVALID_ARG, 'surrendered a buffer this pool did not lend');
    if (this.destroyed) return;
    this.free.push(Buffer.allocUnsafeSlow(this.bufferSize));
    this.allocations++;
  }

  /**
   * Drops the slab once every lent buffer is back (buffers released later are simply forgotten).
   * Idempotent. A BulkPipe calls it from _destroy, after every transfer has settled.
   */
  destroy(): void {
    this.destroyed = true;
    this.free.length = 0;
    this.slab = null;
  }

  private allocate(): void {
    // One slab, cut into views: one allocation for the pool's lifetime, contiguous, never moved.
    this.slab = Buffer.allocUnsafeSlow(this.bufferSize * this.capacity);
    this.allocations++;
    for (let i = this.capacity - 1; i >= 0; i--) {
      this.free.push(this.slab.subarray(i * this.bufferSize, (i + 1) * this.bufferSize));
    }
  }
}
