/**
 * Asynchronous completion, as an overlapped handle delivers it: every settlement (device IOCTLs
 * and host operations alike) is queued and run in one batch on the next event-loop turn
 * (setImmediate), in the order it was decided. That keeps completion FIFO per pipe, never before
 * ioctl() has returned its promise, and never a microtask chain that starves timers and I/O
 * (node-usb's complaint) — at the cost of one setImmediate per batch, never per packet.
 */
import { ioctlName } from '../../../native-defs/ioctl.js';

/** Runs deferred settlements in FIFO batches. */
export class CompletionQueue {
  private batch: Array<() => void> = [];
  private scheduled = false;

  /** Runs `fn` on the next batch (after every settlement queued before it). */
  defer(fn: () => void): void {
    this.batch.push(fn);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flush);
    }
  }

  /** Resolves once everything deferred so far has run. */
  drained(): Promise<void> {
    return new Promise((resolve) => this.defer(resolve));
  }

  private flush = (): void => {
    this.scheduled = false;
    const batch = this.batch;
    this.batch = [];
    for (const fn of batch) fn();
  };
}

/** What the 'ioctl' event reports when a request is issued. */
export interface IoctlInfo {
  /** Increasing per device, for correlating 'ioctl' and 'complete'. */
  id: number;
  code: number;
  /** SDK name without prefix, e.g. 'TRANSFER_IN'; `UNKNOWN_0x…` for a code the driver does not define. */
  name: string;
  /** The pipe id from lpInBuffer, when the code takes one and it was readable. */
  pipeId?: number;
  /** lpOutBuffer's length (the transfer length for transfers), 0 for none. */
  length: number;
  /** lpInBuffer's length, 0 for none. */
  inputLength: number;
}

/** What the 'complete' event reports: errno 0 = success. */
export interface IoctlCompletion extends IoctlInfo {
  errno: number;
  bytesReturned: number;
}

/** Short name of a code: the SDK name without `IOCTL_GENERICUSBFN_`. */
export function shortIoctlName(code: number): string {
  const name = ioctlName(code);
  return name ? name.slice('IOCTL_GENERICUSBFN_'.length) : `UNKNOWN_0x${(code >>> 0).toString(16).padStart(8, '0')}`;
}

/**
 * One IOCTL between issue and settlement. Whoever queues it sets `cancel` (take it off the
 * queue it waits on); `complete` is the only way it ends.
 */
export class IoctlRequest {
  settled = false;
  /** Removes the request from whatever it waits on, returning the bytes already moved. */
  cancel?: () => number;
  /** A fault to apply when the request completes (injectFault with at: 'completion'). */
  override?: { errno: number; bytesReturned: number };
  /** The caller's AbortSignal, if any (its 'abort' listener is shared by every request carrying it). */
  signal?: AbortSignal;
  /** Called (as a method of the request) when it completes: lets go of its signal. */
  detachSignal?: (this: IoctlRequest) => void;
  /** Runs when the completion is delivered to the device, just before its promise settles. */
  onDelivered?: () => void;

  constructor(
    readonly info: IoctlInfo,
    readonly input: Uint8Array | null,
    readonly output: Uint8Array | null,
    readonly resolve: (n: number) => void,
    readonly reject: (e: Error) => void,
  ) {}
}
