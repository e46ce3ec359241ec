/**
 * RequestGate: the one door every request of a GenericUsbFnDriver passes to reach its IoctlDevice.
 * It refuses requests once the driver is closing (or whose signal has already aborted), counts the
 * requests the device holds so that close() can wait until the device has let go of every buffer,
 * and turns a device that threw into a rejection. A counter, not a Set of promises: the data
 * transfers pass here at hundreds of thousands per second, and a count costs nothing per request.
 */
import { ioctlName } from '../../../native-defs/ioctl.js';
import { ErrorCodes, UsbFnError, canceledError } from '../../errors.js';
import type { IoctlDevice, IoctlSink } from './ioctl-device.js';

export class RequestGate {
  /** The driver began closing: every new request is refused with USBFN_ERR_CLOSED. */
  closing = false;
  /** Requests issued to the device and not yet settled. */
  private pending = 0;
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly device: IoctlDevice) {}

  /** Requests the device holds right now. */
  get pendingCount(): number {
    return this.pending;
  }

  /** Why a request is refused before it reaches the device (closed, or an aborted signal), or null. */
  refusal(code: number, signal: AbortSignal | undefined): UsbFnError | null {
    if (this.closing) return closedError(ioctlName(code) ?? 'ioctl');
    if (signal?.aborted) return canceledError(ioctlName(code) ?? 'ioctl', signal.reason);
    return null;
  }

  /**
   * Sends one request to the device and counts it as pending. The caller MUST call settled()
   * exactly once when the returned promise settles (first thing in its handlers). Never throws.
   */
  issue(code: number, input: Uint8Array | null, output: Uint8Array | null, signal: AbortSignal | undefined): Promise<number> {
    this.pending++;
    try {
      return this.device.ioctl(code, input, output, signal);
    } catch (err) {
      return Promise.reject(err); // a device that threw instead of rejecting
    }
  }

  /**
   * issue() with the outcome reported to `sink` (the data transfers' path): straight from the
   * device where it has `ioctlTo`, else through one `.then` on its promise. The sink MUST call
   * settled() exactly once, first thing. Never throws and never calls `sink` synchronously.
   */
  issueTo(code: number, input: Uint8Array | null, output: Uint8Array | null, signal: AbortSignal | undefined, sink: IoctlSink): void {
    const device = this.device;
    if (device.ioctlTo === undefined) {
      this.issue(code, input, output, signal).then(sink.done, sink.failed);
      return;
    }
    this.pending++;
    try {
      device.ioctlTo(code, input, output, signal, sink);
    } catch (err) {
      void Promise.reject(err).catch(sink.failed); // a device that threw: reported as a rejection would be
    }
  }

  /** One request has settled: wakes whoever waits for idle when it was the last. */
  settled(): void {
    if (--this.pending > 0 || this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const wake of waiters) wake();
  }

  /** Resolves once no request is pending. */
  whenIdle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }
}

/** USBFN_ERR_CLOSED for `operation` on a closed driver. */
export function closedError(operation: string): UsbFnError {
  return new UsbFnError(ErrorCodes.CLOSED, `${operation}: the driver is closed`, { operation });
}
