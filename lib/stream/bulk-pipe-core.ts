/**
 * PipeCore: the logic BulkPipe (Duplex), BulkReader (Readable) and BulkWriter (Writable) share,
 * so each stream class is only the stream methods delegating here: building the two halves,
 * decoding written chunks (packet mode, per-write ZLP, writeTransfer), the stall API across
 * directions, stats, and closing both halves.
 */
import { ErrorCodes, UsbFnError } from '../errors.js';
import type { BulkPipeOptions, ResolvedPipeOptions } from './bulk-pipe-options.js';
import type { PipeDirection } from './bulk-pipe-endpoint.js';
import { OutPipeReader, type ReadableHost, type ReaderStats } from './bulk-pipe-reader.js';
import { InPipeWriter, type WriterStats } from './bulk-pipe-writer.js';
import type { TransferWaiter, WriteCallback } from './write-op.js';
import type { PipeHost } from './bulk-pipe-endpoint.js';

/** A packet-mode chunk with its own ZLP decision; a bare Buffer/Uint8Array follows the policy. */
export interface PacketChunk {
  data: Uint8Array;
  /** true: append a ZLP if the length is a multiple of wMaxPacketSize (a 0-byte transfer is a ZLP anyway); false: never. */
  zlp?: boolean;
}

/** Counters for tests and monitoring; the half a stream lacks reports zeros. */
export interface PipeStats extends ReaderStats, WriterStats {
  /** Bytes (or, in packet mode, chunks) waiting in the readable buffer for the consumer. */
  readableLength: number;
}

interface WriteOverride {
  zlp: boolean | undefined;
  waiter: TransferWaiter;
}

const NO_READER: ReaderStats = { readsPending: 0, poolInUse: 0, poolAllocations: 0, bytesRead: 0, transfersCompleted: 0, readsCancelled: 0 };
const NO_WRITER: WriterStats = { writesPending: 0, writesQueued: 0, bytesWritten: 0, transfersCompleted: 0, writesResent: 0, writesDropped: 0 };

export class PipeCore {
  readonly reader: OutPipeReader | null;
  readonly writer: InPipeWriter | null;
  /** writeTransfer() options, keyed by the chunk object handed to write(). */
  private readonly overrides = new WeakMap<object, WriteOverride[]>();
  /** Overrides registered and not yet taken: while 0, a plain Buffer write skips the WeakMap. */
  private overridesWaiting = 0;

  /** Called by the stream constructors once `super()` has run. */
  constructor(input: BulkPipeOptions, readonly options: ResolvedPipeOptions, stream: PipeHost & Partial<ReadableHost>) {
    const { driver, link } = input;
    this.reader = input.out === undefined ? null : new OutPipeReader(driver, link, input.out, options, stream as ReadableHost);
    this.writer = input.in === undefined ? null : new InPipeWriter(driver, link, input.in, options, stream);
    if (options.onBusLoss === 'end' && this.writer) this.closeAfterDetach(stream, this.writer, this.reader !== null);
  }

  /**
   * onBusLoss 'end': after a detach, closes the stream (without an error) once the writes in
   * flight have settled and, for a BulkPipe, once its readable side has ended.
   */
  private closeAfterDetach(stream: PipeHost, writer: InPipeWriter, hasReader: boolean): void {
    const close = () => void writer.whenDetachedIdle().then(() => stream.destroy());
    if (hasReader) (stream as unknown as { once(e: string, fn: () => void): void }).once('end', close);
    else writer.onDetach = close;
  }

  /** The stream's _write: one chunk, one transfer. */
  write(chunk: unknown, encoding: BufferEncoding, callback: WriteCallback): void {
    const writer = this.writer;
    if (!writer) return callback(new UsbFnError(ErrorCodes.INVALID_STATE, 'this pipe has no IN endpoint to write to'));
    // The hot path: a plain write() of bytes, no writeTransfer() waiting: no decoding, no lookup.
    if (this.overridesWaiting === 0 && chunk instanceof Uint8Array) return writer.write(chunk, undefined, undefined, callback);
    const decoded = this.decode(chunk, encoding);
    if (decoded instanceof Error) return callback(decoded);
    const override = typeof chunk === 'object' && chunk !== null ? this.takeOverride(chunk) : undefined;
    writer.write(decoded.data, override?.zlp ?? decoded.zlp, override?.waiter, callback);
  }

  /** readBuffers 'lend': hands a pushed chunk back to its pipe (see OutPipeReader.returnChunk). */
  returnChunk(chunk: Uint8Array): void {
    if (!this.reader) throw new UsbFnError(ErrorCodes.INVALID_STATE, 'this pipe has no OUT endpoint that lends chunks');
    this.reader.returnChunk(chunk);
  }

  /** Registers per-write options for `chunk`, which the caller then passes to write(). */
  expectWrite(chunk: object, zlp: boolean | undefined, waiter: TransferWaiter): void {
    this.overridesWaiting++;
    const list = this.overrides.get(chunk);
    if (list) list.push({ zlp, waiter });
    else this.overrides.set(chunk, [{ zlp, waiter }]);
  }

  /** Forgets the options registered for a write that never reached _write (the stream refused it). */
  dropExpected(chunk: object, waiter: TransferWaiter): void {
    const list = this.overrides.get(chunk);
    const i = list?.findIndex((o) => o.waiter === waiter) ?? -1;
    if (list && i >= 0) {
      list.splice(i, 1);
      this.overridesWaiting--;
    }
    if (list?.length === 0) this.overrides.delete(chunk);
  }

  final(callback: WriteCallback): void {
    if (!this.writer) return callback();
    this.writer.final(callback);
  }

  /** Stalls one direction, or every pipe of the stream when `direction` is omitted. */
  async stall(direction?: PipeDirection): Promise<void> {
    await Promise.all(this.endpoints(direction, 'stall').map((e) => e.stall()));
  }

  async clearStall(direction?: PipeDirection): Promise<void> {
    await Promise.all(this.endpoints(direction, 'clearStall').map((e) => e.clearStall()));
  }

  /** GET_PIPE_STATE; with `direction` omitted, true when any pipe of the stream is halted. */
  async isStalled(direction?: PipeDirection): Promise<boolean> {
    const states = await Promise.all(this.endpoints(direction, 'isStalled').map((e) => e.isStalled()));
    return states.some(Boolean);
  }

  stats(readableLength: number): PipeStats {
    const reader = this.reader?.stats ?? NO_READER;
    const writer = this.writer?.stats ?? NO_WRITER;
    return { ...reader, ...writer, transfersCompleted: reader.transfersCompleted + writer.transfersCompleted, readableLength };
  }

  /** The stream's _destroy: cancels everything pending, waits until all has settled, releases all. */
  async close(err: Error | null): Promise<void> {
    await Promise.all([this.reader?.close(err), this.writer?.close(err)]);
  }

  private endpoints(direction: PipeDirection | undefined, operation: string): Array<OutPipeReader | InPipeWriter> {
    const all = [this.reader, this.writer].filter((e): e is OutPipeReader | InPipeWriter => e !== null);
    const chosen = direction === undefined ? all : all.filter((e) => e.direction === direction);
    if (chosen.length === 0) throw new UsbFnError(ErrorCodes.INVALID_ARG, `${operation}: this pipe has no ${direction?.toUpperCase()} endpoint`, { operation });
    return chosen;
  }

  private takeOverride(chunk: object): WriteOverride | undefined {
    const list = this.overrides.get(chunk);
    if (!list) return undefined;
    const first = list.shift();
    if (first) this.overridesWaiting--;
    if (list.length === 0) this.overrides.delete(chunk);
    return first;
  }

  /** A written chunk as bytes plus its own ZLP choice (packet mode accepts `{ data, zlp }`). */
  private decode(chunk: unknown, encoding: BufferEncoding): { data: Uint8Array; zlp: boolean | undefined } | UsbFnError {
    if (chunk instanceof Uint8Array) return { data: chunk, zlp: undefined };
    if (typeof chunk === 'string') return { data: Buffer.from(chunk, encoding), zlp: undefined };
    const packet = chunk as PacketChunk | null;
    if (this.options.packetMode && packet && packet.data instanceof Uint8Array && (packet.zlp === undefined || typeof packet.zlp === 'boolean')) {
      return { data: packet.data, zlp: packet.zlp };
    }
    return new UsbFnError(ErrorCodes.INVALID_ARG, 'a BulkPipe write takes a Buffer, a Uint8Array or a string (or { data, zlp } in packet mode)');
  }
}
