/**
 * WriteOp: one InPipeWriter write from acceptance to completion, with the transfer that carries
 * it. Ops are reused (the writer keeps the completed ones as spares), so the per-write path
 * allocates no op, closure or options object.
 */
import type { TransferHandle, TransferSink, UsbFnDriver } from '../driver/driver.js';
import type { InPipeWriter } from './bulk-pipe-writer.js';
import { openTransfer } from './pipe-transfer.js';

/** A Writable write() / final() callback: an error fails that write (and the stream). */
export type WriteCallback = (err?: Error | null) => void;

/** Settles a writeTransfer() promise when its transfer does. */
export interface TransferWaiter {
  resolve(bytes: number): void;
  reject(err: Error): void;
}

/** The data of an op in the spares: nothing. */
export const NO_DATA = new Uint8Array(0);

/**
 * One TRANSFER_IN from acceptance to completion, and its transfer's sink. Reused: an op that
 * completed goes back to the writer's spares, so a write allocates no op, closure or options.
 */
export class WriteOp implements TransferSink {
  data: Uint8Array = NO_DATA;
  zlp: boolean | undefined = undefined;
  seq = 0;
  waiter: TransferWaiter | undefined = undefined;
  sending = false;
  epoch = 0;
  /** Bytes the host already took in earlier attempts (whole packets of a transfer the bus cancelled). */
  sent = 0;
  /** The write() callback while this op is the one held past the window. */
  heldCallback: WriteCallback | null = null;
  readonly transfer: TransferHandle;

  constructor(private readonly writer: InPipeWriter, driver: UsbFnDriver) {
    this.transfer = openTransfer(driver, 'in', this);
  }

  /** Readies the op for a new write (or, with no data, for the spares). */
  reset(data: Uint8Array, zlp: boolean | undefined, seq: number, waiter: TransferWaiter | undefined): void {
    this.data = data;
    this.zlp = zlp;
    this.seq = seq;
    this.waiter = waiter;
    this.sending = false;
    this.epoch = 0;
    this.sent = 0;
    this.heldCallback = null;
  }

  transferred(): void {
    this.writer.writeSettled(this, null);
  }

  transferFailed(err: unknown): void {
    this.writer.writeSettled(this, err ?? new Error('transfer failed'));
  }
}
