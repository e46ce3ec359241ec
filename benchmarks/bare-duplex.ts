/**
 * The ceiling the transfer benchmarks hold usbfn against: a hand-written Duplex on the same
 * readable-stream, with no usbfn code, doing what a BulkPipe must do and nothing more: up to
 * `readsOutstanding` reads into a fixed pool (one slab), delivered in issue order and copied out
 * once into an exact-size Buffer; writes acknowledged early within a window of `writesInFlight`,
 * the one past it held until a slot frees; _final once every write has completed.
 * It completes transfers exactly as the instant device does (one `.then` on a resolved promise),
 * so any difference between the two is usbfn's own cost.
 */
import { Duplex } from 'readable-stream';

/** A transfer that completes at once with its full length: the same completion the instant device gives. */
export type Transfer = (buffer: Buffer) => Promise<number>;

export const instantTransfer: Transfer = (buffer) => Promise.resolve(buffer.length);

export interface BareOptions {
  readsOutstanding: number;
  readSize: number;
  writesInFlight: number;
}

interface Slot {
  buffer: Buffer;
  bytes: number;
}

export class BareDuplex extends Duplex {
  private readonly free: Buffer[] = [];
  private readonly slots: Slot[] = [];
  private wanted = false;
  private writing = 0;
  private held: (() => void) | null = null;
  private finalCallback: (() => void) | null = null;

  constructor(private readonly o: BareOptions, private readonly transfer: Transfer = instantTransfer) {
    super({ readableHighWaterMark: o.readsOutstanding * o.readSize, writableHighWaterMark: o.readSize });
    const slab = Buffer.allocUnsafeSlow(o.readsOutstanding * o.readSize);
    for (let i = 0; i < o.readsOutstanding; i++) this.free.push(slab.subarray(i * o.readSize, (i + 1) * o.readSize));
  }

  override _read(): void {
    this.wanted = true;
    this.pump();
  }

  private pump(): void {
    while (this.wanted && this.free.length > 0 && !this.destroyed) {
      const slot: Slot = { buffer: this.free.pop()!, bytes: -1 };
      this.slots.push(slot);
      this.transfer(slot.buffer).then((n) => {
        slot.bytes = n;
        this.deliver();
      });
    }
  }

  private deliver(): void {
    while (this.slots.length > 0 && this.slots[0].bytes >= 0) {
      const slot = this.slots.shift()!;
      const chunk = Buffer.allocUnsafe(slot.bytes);
      slot.buffer.copy(chunk, 0, 0, slot.bytes);
      this.free.push(slot.buffer);
      if (!this.destroyed && !this.push(chunk)) this.wanted = false;
    }
    this.pump();
  }

  override _write(chunk: Buffer, _encoding: string, callback: (err?: Error | null) => void): void {
    this.writing++;
    this.transfer(chunk).then(() => {
      this.writing--;
      const held = this.held;
      this.held = null;
      if (held) held();
      else if (this.writing === 0 && this.finalCallback) this.finalCallback();
    });
    if (this.writing < this.o.writesInFlight) callback();
    else this.held = () => callback();
  }

  override _final(callback: (err?: Error | null) => void): void {
    if (this.writing === 0) return callback();
    this.finalCallback = () => callback();
  }
}
