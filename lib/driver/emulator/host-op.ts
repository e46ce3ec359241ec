/**
 * One pending operation of the simulated host (a control transfer, a bulk read or write): a
 * promise settled through the emulator's completion queue, with its own timeout and
 * AbortSignal, and the mapping from why the bus aborted it to the UsbFnError the host sees.
 */
import { UsbFnError, ErrorCodes, canceledError } from '../../errors.js';
import type { CompletionQueue } from './completions.js';

/** Why the bus took a transfer away. */
export type AbortReason = 'reset' | 'detach' | 'unconfigure' | 'stall' | 'close' | 'setup' | 'timeout';

/** The error a host operation rejects with when the bus aborts it for `reason`. */
export function hostAbortError(reason: AbortReason, operation: string): UsbFnError {
  switch (reason) {
    case 'detach':
    case 'close':
      return new UsbFnError(ErrorCodes.DISCONNECTED, `${operation}: the device was disconnected`, { operation });
    case 'stall':
      return new UsbFnError(ErrorCodes.STALLED, `${operation}: the endpoint stalled`, { operation });
    case 'timeout':
      return new UsbFnError(ErrorCodes.TIMEOUT, `${operation}: the device did not answer in time`, { operation });
    default:
      return new UsbFnError(ErrorCodes.CANCELED, `${operation} was canceled by a bus ${reason === 'setup' ? 'newer setup packet' : reason}`, { operation });
  }
}

/** Limits of one host operation. */
export interface HostOpOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
}

/** A pending host operation: settles once, through the completion queue; timer and signal cleaned up on settle. */
export class HostOp<T> {
  readonly promise: Promise<T>;
  settled = false;
  private res!: (v: T) => void;
  private rej!: (e: Error) => void;
  private timer?: NodeJS.Timeout;
  private offSignal?: () => void;

  /**
   * @param withdraw takes the operation off the bus when its signal aborts or its timer fires
   *   (it is never called after the op settled).
   */
  constructor(
    private readonly completions: CompletionQueue,
    readonly operation: string,
    options: HostOpOptions,
    withdraw: () => void,
  ) {
    this.promise = new Promise<T>((resolve, reject) => {
      this.res = resolve;
      this.rej = reject;
    });
    const { signal, timeoutMs } = options;
    if (timeoutMs !== undefined && timeoutMs >= 0 && Number.isFinite(timeoutMs)) {
      // Ref'd on purpose: a host that is waiting keeps the test alive until it times out;
      // every settle path clears it, so nothing outlives the operation.
      this.timer = setTimeout(() => {
        withdraw();
        this.reject(hostAbortError('timeout', operation));
      }, timeoutMs);
    }
    if (signal) {
      const onAbort = () => {
        withdraw();
        this.reject(canceledError(operation, signal.reason));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.offSignal = () => signal.removeEventListener('abort', onAbort);
    }
  }

  resolve(value: T): void {
    if (!this.finish()) return;
    this.completions.defer(() => this.res(value));
  }

  reject(error: Error): void {
    if (!this.finish()) return;
    this.completions.defer(() => this.rej(error));
  }

  /** Rejects with the error that fits `reason`. */
  abort(reason: AbortReason): void {
    this.reject(hostAbortError(reason, this.operation));
  }

  private finish(): boolean {
    if (this.settled) return false;
    this.settled = true;
    if (this.timer) clearTimeout(this.timer);
    this.offSignal?.();
    return true;
  }
}

/** A rejected promise for a host call refused before it started. */
export function refuse<T>(code: (typeof ErrorCodes)[keyof typeof ErrorCodes], operation: string, message: string): Promise<T> {
  return Promise.reject(new UsbFnError(code, `${operation}: ${message}`, { operation }));
}
