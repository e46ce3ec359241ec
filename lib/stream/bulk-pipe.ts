/**
 * Bulk pipes as streams (readable-stream 4): BulkPipe is a Duplex over an OUT pipe (readable:
 * host-to-device data) and an IN pipe (writable: device-to-host data); BulkReader and BulkWriter
 * are the lone halves. All three delegate to PipeCore, so they behave identically.
 *
 * Who calls what: the device facade constructs them (`device.pipe(...)`), users read, write,
 * pipe() and pipeline() them. The facade's BusLink drives them: a reset, unconfigure or detach
 * cancels their transfers (the stream does not error) and the next 'configured' resumes them.
 *
 * Contract, beyond the options (bulk-pipe-options.ts):
 * - Reads: `readsOutstanding` TRANSFER_OUT at the driver while the readable side has room; none
 *   re-issued while it is full (the host sees NAKs). Chunks are exact-size copies the consumer
 *   owns; in packet mode one chunk is one transfer and a ZLP is an empty Buffer.
 * - Writes: one chunk, one TRANSFER_IN, never merged, sent in place: do not modify a Buffer after
 *   writing it. Up to `writesInFlight` are acknowledged early; the failure of one destroys the
 *   stream with its error ('error' event; _final and held callbacks get it too).
 * - Stall: `stall()`, `clearStall()`, `isStalled()` (SET/GET_PIPE_STATE). A transfer failing on a
 *   halted pipe emits 'stall' (StallEvent, error.code USBFN_ERR_STALLED) and waits for the halt
 *   to clear (onStall 'wait'), or destroys the stream with that error (onStall 'error').
 * - Writes after end() fail with ERR_STREAM_WRITE_AFTER_END, after destroy() with
 *   ERR_STREAM_DESTROYED (Node's codes); writes accepted but unsent when the stream is destroyed
 *   fail with USBFN_ERR_CLOSED (or the destroy error), writeTransfer() promises reject with it.
 * - destroy() (also via `signal`, or when the link closes) aborts every pending transfer, waits
 *   until the driver has let go of each buffer, returns every pool buffer, then emits 'close':
 *   afterwards `stats.readsPending`, `writesPending` and `poolInUse` are 0.
 * Events beyond the stream ones: 'stall' (StallEvent).
 */
import { Duplex, Readable, Writable } from './portable-stream.js';
import { resolvePipeOptions, type BulkPipeOptions } from './bulk-pipe-options.js';
import type { PipeDirection } from './bulk-pipe-endpoint.js';
import { PipeCore, type PipeStats } from './bulk-pipe-core.js';
import type { WriteCallback } from './write-op.js';
import { checkOptions, checkType, describe, invalidArg } from '../validate.js';

export type { BulkPipeOptions } from './bulk-pipe-options.js';
export type { PacketChunk, PipeStats } from './bulk-pipe-core.js';
export type { StallEvent, PipeDirection } from './bulk-pipe-endpoint.js';
export { BULK_PIPE_DEFAULTS } from './bulk-pipe-options.js';

/** Per-transfer options of writeTransfer(). */
export interface WriteTransferOptions {
  /** Override the pipe's ZLP policy for this transfer. */
  zlp?: boolean;
}

/** The stall API and counters every bulk stream has. */
export interface BulkStreamControls {
  /** Halts a direction (or every pipe of the stream). An IN pipe halts after the writes already accepted have gone out. */
  stall(direction?: PipeDirection): Promise<void>;
  /** Clears the halt (SET_PIPE_STATE FALSE) and resumes transfers it held. */
  clearStall(direction?: PipeDirection): Promise<void>;
  /** GET_PIPE_STATE: true when the pipe (any pipe, with no direction) is halted. */
  isStalled(direction?: PipeDirection): Promise<boolean>;
  /**
   * readBuffers 'lend' (zero-copy reads): the consumer is done with a chunk this stream pushed;
   * its pool buffer may receive again, so the chunk must not be touched afterwards. Throws
   * USBFN_ERR_INVALID_ARG for a chunk the stream did not lend or that came back already, and
   * USBFN_ERR_INVALID_STATE on a stream with no OUT pipe. Harmless after the stream closed.
   */
  returnChunk(chunk: Uint8Array): void;
  readonly stats: PipeStats;
}

/**
 * Writes one transfer with its own ZLP choice, in order with the stream's other writes, and
 * resolves with its length once the host has taken it (rejects if it fails or the stream closes
 * first). Awaiting each in turn keeps one transfer in flight: to stream, don't await each.
 */
function writeTransfer(stream: Writable, core: PipeCore, data: Uint8Array, options: WriteTransferOptions = {}): Promise<number> {
  try {
    checkOptions('writeTransfer', options, ['zlp']);
    checkType('writeTransfer', 'zlp', options.zlp, 'boolean');
    if (!(data instanceof Uint8Array)) throw invalidArg('writeTransfer', `data must be a Buffer or Uint8Array, got ${describe(data)}`);
  } catch (err) {
    return Promise.reject(err);
  }
  return new Promise<number>((resolve, reject) => {
    // A fresh view (no copy) per call: the options are keyed by this object, and the caller's own
    // Buffer may still sit in the stream's buffer from a plain write(), which must not take them.
    const chunk: object = core.options.packetMode
      ? { data, zlp: options.zlp }
      : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    const waiter = { resolve, reject };
    core.expectWrite(chunk, options.zlp, waiter);
    stream.write(chunk, (err?: Error | null) => {
      if (!err) return;
      core.dropExpected(chunk, waiter);
      reject(err);
    });
  });
}

/** Both pipes of a function as one Duplex (either may be omitted: that side is then closed). */
export class BulkPipe extends Duplex implements BulkStreamControls {
  private readonly core: PipeCore;

  /** Constructed by the device facade (`device.pipe(...)`) or directly with a driver and a BusLink. */
  constructor(options: BulkPipeOptions) {
    const o = resolvePipeOptions(options);
    super({
      readableObjectMode: o.packetMode,
      writableObjectMode: o.packetMode,
      readableHighWaterMark: o.readableHighWaterMark,
      writableHighWaterMark: o.writableHighWaterMark,
      readable: options.out !== undefined,
      writable: options.in !== undefined,
      allowHalfOpen: true,
      signal: options.signal,
    } as ConstructorParameters<typeof Duplex>[0]);
    this.core = new PipeCore(options, o, this);
  }

  get stats(): PipeStats {
    return this.core.stats(this.readableLength);
  }

  stall(direction?: PipeDirection): Promise<void> {
    return this.core.stall(direction);
  }

  clearStall(direction?: PipeDirection): Promise<void> {
    return this.core.clearStall(direction);
  }

  isStalled(direction?: PipeDirection): Promise<boolean> {
    return this.core.isStalled(direction);
  }

  returnChunk(chunk: Uint8Array): void {
    this.core.returnChunk(chunk);
  }

  /** See writeTransfer above. */
  writeTransfer(data: Uint8Array, options?: WriteTransferOptions): Promise<number> {
    return writeTransfer(this as unknown as Writable, this.core, data, options);
  }

  override _read(): void {
    this.core.reader?.read();
  }

  override _write(chunk: unknown, encoding: BufferEncoding, callback: WriteCallback): void {
    this.core.write(chunk, encoding, callback);
  }

  override _final(callback: WriteCallback): void {
    this.core.final(callback);
  }

  override _destroy(err: Error | null, callback: (err: Error | null) => void): void {
    this.core.close(err).then(() => callback(err), callback);
  }
}

/** A lone OUT pipe as a Readable (host-to-device data). */
export class BulkReader extends Readable implements BulkStreamControls {
  private readonly core: PipeCore;

  /** `options.in` must be absent. */
  constructor(options: Omit<BulkPipeOptions, 'in'> & { out: number }) {
    const o = resolvePipeOptions({ ...options, in: undefined });
    super({ objectMode: o.packetMode, highWaterMark: o.readableHighWaterMark, signal: options.signal } as ConstructorParameters<typeof Readable>[0]);
    this.core = new PipeCore({ ...options, in: undefined }, o, this);
  }

  get stats(): PipeStats {
    return this.core.stats(this.readableLength);
  }

  stall(direction?: PipeDirection): Promise<void> {
    return this.core.stall(direction);
  }

  clearStall(direction?: PipeDirection): Promise<void> {
    return this.core.clearStall(direction);
  }

  isStalled(direction?: PipeDirection): Promise<boolean> {
    return this.core.isStalled(direction);
  }

  returnChunk(chunk: Uint8Array): void {
    this.core.returnChunk(chunk);
  }

  override _read(): void {
    this.core.reader!.read();
  }

  override _destroy(err: Error | null, callback: (err: Error | null) => void): void {
    this.core.close(err).then(() => callback(err), callback);
  }
}

/** A lone IN pipe as a Writable (device-to-host data). */
export class BulkWriter extends Writable implements BulkStreamControls {
  private readonly core: PipeCore;

  /** `options.out` must be absent. */
  constructor(options: Omit<BulkPipeOptions, 'out'> & { in: number }) {
    const o = resolvePipeOptions({ ...options, out: undefined });
    super({ objectMode: o.packetMode, highWaterMark: o.writableHighWaterMark, signal: options.signal } as ConstructorParameters<typeof Writable>[0]);
    this.core = new PipeCore({ ...options, out: undefined }, o, this);
  }

  get stats(): PipeStats {
    return this.core.stats(0);
  }

  stall(direction?: PipeDirection): Promise<void> {
    return this.core.stall(direction);
  }

  clearStall(direction?: PipeDirection): Promise<void> {
    return this.core.clearStall(direction);
  }

  isStalled(direction?: PipeDirection): Promise<boolean> {
    return this.core.isStalled(direction);
  }

  returnChunk(chunk: Uint8Array): void {
    this.core.returnChunk(chunk);
  }

  /** See writeTransfer above. */
  writeTransfer(data: Uint8Array, options?: WriteTransferOptions): Promise<number> {
    return writeTransfer(this, this.core, data, options);
  }

  override _write(chunk: unknown, encoding: BufferEncoding, callback: WriteCallback): void {
    this.core.write(chunk, encoding, callback);
  }

  override _final(callback: WriteCallback): void {
    this.core.final(callback);
  }

  override _destroy(err: Error | null, callback: (err: Error | null) => void): void {
    this.core.close(err).then(() => callback(err), callback);
  }
}

/**
 * The stream a pair or a lone endpoint calls for: a BulkPipe when both `out` and `in` are given,
 * a BulkReader for `out` alone, a BulkWriter for `in` alone.
 */
export function createBulkStream(options: BulkPipeOptions): BulkPipe | BulkReader | BulkWriter {
  if (options.out !== undefined && options.in !== undefined) return new BulkPipe(options);
  if (options.out !== undefined) return new BulkReader({ ...options, out: options.out });
  return new BulkWriter({ ...options, in: options.in! });
}
