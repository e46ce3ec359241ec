/**
 * OutPipeReader: the readable half of a BulkPipe. Keeps up to `readsOutstanding` TRANSFER_OUT
 * requests at the driver, each receiving into a buffer of a fixed BufferPool, and pushes what
 * they received in issue order. It issues reads only while the stream asked for data (_read)
 * and the last push found room: when the consumer is slow, no read is re-issued, the host's
 * OUT packets are NAKed, and memory stays at pool + readable highWaterMark.
 *
 * readBuffers 'copy': each completed transfer is copied once into an exact-size Buffer and its
 * pool buffer returns at once: the consumer may keep chunks as long as it likes, short transfers
 * cost only their length, and the pool is never held by user code. 'swap': a mostly full buffer
 * is handed over without a copy and replaced in the pool (benchmarks/stream-read-copy.ts).
 * 'lend': no copy at all; the pushed chunk views a pool buffer lent to the consumer until
 * returnChunk() (the pool is twice readsOutstanding, and reads stop while it is all lent).
 *
 * Bus life: a read cancelled by a reset/detach is dropped, except for the whole packets it had
 * already received (pushed, since the host saw them ACKed); a read that completed before the
 * reset is still pushed, once, in order. Reads resume on 'configured'.
 */
import { BufferPool } from './buffer-pool.js';
import type { BusLink } from '../bus-link.js';
import type { PipeInfo, TransferHandle, TransferSink, UsbFnDriver } from '../driver/driver.js';
import { ErrorCodes, UsbFnError } from '../errors.js';
import type { ResolvedPipeOptions } from './bulk-pipe-options.js';
import { PipeEndpoint, debug, type PipeHost } from './bulk-pipe-endpoint.js';
import { bytesBeforeCancel } from './pipe-failure.js';
import { openTransfer } from './pipe-transfer.js';
import { Ring } from './ring.js';

/** What the reader needs from its stream: a Readable's push. */
export interface ReadableHost extends PipeHost {
  push(chunk: Buffer | null): boolean;
}

const NO_BUFFER = Buffer.alloc(0);

/**
 * One TRANSFER_OUT between issue and push, reused read after read (the reader keeps spares), so a
 * read allocates no slot, no closure and no option object: the slot is its transfer's sink.
 */
class ReadSlot implements TransferSink {
  buffer: Buffer = NO_BUFFER;
  epoch = 0;
  /** Bytes asked for: all of `buffer`, or one packet (readSize 'packet'). */
  length = 0;
  /** Bytes received, or -1 while pending / failed. */
  bytes = -1;
  error: unknown = null;
  settled = false;
  readonly transfer: TransferHandle;

  constructor(private readonly reader: OutPipeReader, driver: UsbFnDriver) {
    this.transfer = openTransfer(driver, 'out', this);
  }

  /** Readies the slot for a read into `buffer`. */
  reset(buffer: Buffer, epoch: number, length: number): void {
    this.buffer = buffer;
    this.epoch = epoch;
    this.length = length;
    this.bytes = -1;
    this.error = null;
    this.settled = false;
  }

  transferred(bytes: number): void {
    this.bytes = bytes;
    this.settled = true;
    this.reader.readSettled();
  }

  transferFailed(err: unknown): void {
    this.error = err;
    this.settled = true;
    this.reader.readSettled();
  }
}

export interface ReaderStats {
  readsPending: number;
  poolInUse: number;
  poolAllocations: number;
  bytesRead: number;
  transfersCompleted: number;
  /** Reads the bus cancelled (re-issued after the next 'configured'). */
  readsCancelled: number;
}

export class OutPipeReader extends PipeEndpoint {
  readonly pool: BufferPool;
  /** Issued reads in issue order; completions are pushed from the front only. */
  private readonly slots: Ring<ReadSlot>;
  /** Slots done with, for the next reads. */
  private readonly spareSlots: ReadSlot[] = [];
  /** The stream asked for data and no push has said "full" since. */
  private wanted = false;
  /** onBusLoss 'end' after a Detach: push EOF once the outstanding reads have settled. */
  private ending = false;
  private ended = false;
  private bytesRead = 0;
  private transfersCompleted = 0;
  private readsCancelled = 0;
  /** readBuffers 'lend': the chunk pushed from each pool slot and not yet returned (null: none). */
  private readonly lentChunks: Array<Uint8Array | null>;
  /** readBuffers 'lend': the pool buffer each lent chunk views, by pool slot. */
  private readonly lentBuffers: Buffer[] = [];

  /** Called by the stream constructors in bulk-pipe.ts only. */
  constructor(driver: UsbFnDriver, link: BusLink, endpointAddress: number, options: ResolvedPipeOptions, private readonly stream: ReadableHost) {
    super(driver, link, endpointAddress, 'out', options, stream);
    // 'lend': as many buffers again as reads, for the consumer to hold (see the option).
    this.pool = new BufferPool(options.readSize, options.readBuffers === 'lend' ? 2 * options.readsOutstanding : options.readsOutstanding);
    this.slots = new Ring<ReadSlot>(this.pool.capacity); // a read holds a pool buffer: never more
    this.lentChunks = options.readBuffers === 'lend' ? new Array<Uint8Array | null>(this.pool.capacity).fill(null) : [];
  }

  get stats(): ReaderStats {
    return {
      readsPending: this.pending,
      poolInUse: this.pool.inUse,
      poolAllocations: this.pool.stats.allocations,
      bytesRead: this.bytesRead,
      transfersCompleted: this.transfersCompleted,
      readsCancelled: this.readsCancelled,
    };
  }

  /** The stream's _read: there is room, keep reads outstanding. */
  read(): void {
    this.wanted = true;
    this.pump();
  }

  protected override checkPipe(pipe: PipeInfo): UsbFnError | null {
    if (this.options.packetReads) {
      if (pipe.maxPacketSize <= this.options.readSize) return null;
      return new UsbFnError(ErrorCodes.INVALID_ARG, `readSize 'packet': wMaxPacketSize ${pipe.maxPacketSize} is larger than the ${this.options.readSize}-byte read buffer`);
    }
    if (this.options.readSize % pipe.maxPacketSize === 0) return null;
    return new UsbFnError(ErrorCodes.INVALID_ARG, `readSize ${this.options.readSize} is not a multiple of wMaxPacketSize ${pipe.maxPacketSize}`);
  }

  protected pump(): void {
    // Issued and not yet pushed: at most readsOutstanding ('lend' has buffers to spare for the
    // consumer to hold, not for more reads), and each holds a pool buffer.
    while (this.wanted && !this.ending && this.slots.length < this.options.readsOutstanding && this.canTransfer && this.pool.available > 0) this.issue();
  }

  private issue(): void {
    const buffer = this.pool.acquire()!;
    const slot = this.spareSlots.pop() ?? new ReadSlot(this, this.driver);
    slot.reset(buffer, this.epoch, this.options.packetReads ? this.pipe!.maxPacketSize : buffer.length);
    this.slots.push(slot);
    this.pending++;
    const into = slot.length === buffer.length ? buffer : buffer.subarray(0, slot.length);
    slot.transfer.submit(this.pipe!.pipeId, into, this.transferOptions);
  }

  /** A read settled (its slot says how): counts it, then delivers what can be delivered. */
  readSettled(): void {
    this.settled();
    this.deliver();
  }

  /** Pushes settled reads from the front, in issue order, then tops the outstanding reads up. */
  private deliver(): void {
    while (this.slots.peek()?.settled) {
      const slot = this.slots.shift()!;
      if (slot.error === null) this.pushReceived(slot);
      else this.dropFailed(slot);
      slot.reset(NO_BUFFER, 0, 0); // its buffer is pushed, lent or back in the pool
      this.spareSlots.push(slot);
    }
    if (this.closed) return;
    if (this.ending && this.slots.length === 0) return this.pushEnd();
    this.pump();
  }

  private pushReceived(slot: ReadSlot, n = slot.bytes): void {
    if (slot.error === null) this.succeeded();
    this.bytesRead += n;
    this.transfersCompleted++;
    // Nothing to push (a ZLP ends a transfer; a byte stream has no boundaries), or no one to take it.
    if (this.closed || this.ended || (n === 0 && !this.options.packetMode)) return this.pool.release(slot.buffer);
    if (!this.stream.push(this.takeChunk(slot.buffer, n))) this.wanted = false;
  }

  /**
   * readBuffers 'lend': the consumer is done with `chunk`; its pool buffer may receive again.
   * Throws USBFN_ERR_INVALID_ARG for a chunk this pipe did not lend or that came back already.
   */
  returnChunk(chunk: Uint8Array): void {
    const slot = chunk instanceof Uint8Array ? this.lentChunks.indexOf(chunk) : -1;
    if (slot < 0) throw new UsbFnError(ErrorCodes.INVALID_ARG, 'returnChunk: not a chunk this pipe lent, or returned already');
    this.lentChunks[slot] = null;
    this.pool.release(this.lentBuffers[slot]);
    if (!this.closed) this.pump();
  }

  /**
   * A failed read. One the bus cancelled is re-issued after the next 'configured'; if packets had
   * already landed in it (the host sent whole packets and no short one yet), the device ACKed
   * them and the host counts them as delivered, so they are pushed, not dropped.
   */
  /**
   * The pushed chunk for `n` bytes received in `buffer`; the pool buffer is back (or replaced)
   * before anything else can run. 'swap' hands a mostly full buffer over as is.
   */
  private takeChunk(buffer: Buffer, n: number): Buffer {
    if (this.options.readBuffers === 'lend') {
      // A full buffer is pushed as it is: no view object to allocate.
      const chunk = n === buffer.length ? buffer : buffer.subarray(0, n);
      const slot = this.pool.slotOf(buffer);
      this.lentChunks[slot] = chunk;
      this.lentBuffers[slot] = buffer;
      return chunk;
    }
    if (this.options.readBuffers === 'swap' && n * 2 >= buffer.length) {
      this.pool.surrender(buffer);
      return buffer.subarray(0, n);
    }
    const chunk = Buffer.allocUnsafe(n);
    buffer.copy(chunk, 0, 0, n);
    this.pool.release(buffer);
    return chunk;
  }

  private dropFailed(slot: ReadSlot): void {
    const kind = this.classify(slot.error, slot.epoch);
    const partial = kind === 'bus' ? bytesBeforeCancel(slot.error, slot.length) : 0;
    if (kind === 'bus') this.readsCancelled++;
    if (partial > 0) return this.pushReceived(slot, partial);
    this.pool.release(slot.buffer);
    if (kind === 'fatal') this.fail(slot.error as Error);
    // 'stall': it received nothing and is held until the halt clears; 'retry': deliver() re-issues.
  }

  protected endOnDetach(): void {
    this.ending = true;
    if (this.slots.length === 0) this.pushEnd();
  }

  private pushEnd(): void {
    if (this.ended) return;
    this.ended = true;
    debug('ep 0x%s: detached, ending the readable side', this.endpointAddress.toString(16));
    this.stream.push(null);
  }

  protected release(): void {
    // Every transfer has settled: deliver() has already returned their buffers.
    for (const slot of this.slots.drain()) if (slot.settled) this.pool.release(slot.buffer);
    this.pool.destroy();
  }
}
