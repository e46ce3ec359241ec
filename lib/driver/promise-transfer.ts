/**
 * PromiseTransfer: transferIn / transferOut behind the TransferHandle contract, with handlers
 * bound once, so a caller's side allocates no closure per transfer. The streams use it for a
 * driver without UsbFnDriver.openTransfer (lib/stream/pipe-transfer.ts); FunctionFsDriver's
 * handle for the transfers it cannot put straight into AIO (functionfs/ffs-transfer.ts).
 * The sink hears one microtask after the promise settles; a driver that throws instead of
 * rejecting is reported as a failure the same way.
 */
import type { TransferHandle, TransferInOptions, TransferSink, UsbFnDriver } from './driver.js';

export class PromiseTransfer implements TransferHandle {
  constructor(
    private readonly driver: Pick<UsbFnDriver, 'transferIn' | 'transferOut'>,
    private readonly direction: 'in' | 'out',
    private readonly sink: TransferSink,
  ) {}

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
