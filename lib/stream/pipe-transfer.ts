/**
 * The endpoints' way to issue transfers: a reusable TransferHandle per read slot or write op.
 * A driver with UsbFnDriver.openTransfer (GenericUsbFnDriver, FunctionFsDriver) gives its own;
 * for any other driver, PromiseTransfer adapts transferIn / transferOut with handlers bound once,
 * so the endpoints' own side allocates no closure per transfer either.
 */
import type { TransferHandle, TransferSink, UsbFnDriver } from '../driver/driver.js';
import { PromiseTransfer } from '../driver/promise-transfer.js';

/** A TransferHandle for `direction` reporting to `sink`: the driver's own, or PromiseTransfer. */
export function openTransfer(driver: UsbFnDriver, direction: 'in' | 'out', sink: TransferSink): TransferHandle {
  return typeof driver.openTransfer === 'function' ? driver.openTransfer(direction, sink) : new PromiseTransfer(driver, direction, sink);
}
