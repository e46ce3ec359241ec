/**
 * The endpoints' way to issue transfers: a reusable TransferHandle per read slot or write op.
 * A driver with UsbFnDriver.openTransfer (GenericUsbFnDriver) gives one that costs a single
 * `.then` per transfer; for any other driver, PromiseTransfer adapts transferIn / transferOut
 * with handlers bound once, so the endpoints' own side allocates no closure per transfer either.
 */
import type { TransferHandle, TransferInOptions, TransferSink, UsbFnDriver } from '../driver/driver.js';

/** A TransferHandle for `direction` reporting to `sink`: the driver's own, or PromiseTransfer. */
export function openTransfer(driver: UsbFnDriver, direction: 'in' | 'out', sink: TransferSink): TransferHandle {
  return typeof driver.openTransfer === 'function' ? driver.openTransfer(direction, sink) : new PromiseTransfer(driver, direction, sink);
}

/** transferIn / transferOut behind the TransferHandle contract (the sink hears one microtask after the promise settles). */
export class PromiseTransfer implements TransferHandle {
  constructor(private readonly driver: UsbFnDriver, private readonly direction: 'in' | 'out', private readonly sink: TransferSink) {}

  submit(pipeId: number, buffer: Uint8Array, options?: TransferInOptions): void {
    let promise: Promise<number>;
    try {
      promise = this.direction === 'in' ? this.driver.transferIn(pipeId, buffer, options) : this.driver.transferOut(pipeId, buffer, options);
    } catch (err) {
      promise = Promise.reject(err); // a driver that threw instead of rejecting
    }
    promise.then(this.onDone, this.onFail);
  }

  private readonly onDone = (bytes: number): void => this.sink.transferred(bytes);
  private readonly onFail = (err: unknown): void => this.sink.transferFailed(err);
}
