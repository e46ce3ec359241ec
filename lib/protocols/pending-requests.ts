/**
 * The message channel's outstanding requests: ids, per-request timeout and AbortSignal, a cap
 * on how many are in flight (callers past it wait for a slot, with their own timeout and signal
 * still running), and failAll() so a detach or close rejects every one of them at once.
 */
import { ErrorCodes, UsbFnError, canceledError } from '../errors.js';

interface Entry {
  resolve(payload: Buffer): void;
  reject(err: Error): void;
}

/** Options of one request. */
export interface RequestOptions {
  /** Reject with USBFN_ERR_TIMEOUT after this long (waiting for a slot counts). Default: the channel's. */
  timeoutMs?: number;
  /** Aborting rejects with USBFN_ERR_CANCELED (the frame may already be on the bus; a late response is dropped). */
  signal?: AbortSignal;
}

/** @internal The table behind MessageChannel.request(). */
export class PendingRequests {
  private readonly entries = new Map<number, Entry>();
  private readonly slotWaiters: Array<() => void> = [];
  private nextId = 1;
  private failure: Error | null = null;

  constructor(private readonly maxPending: number) {}

  get size(): number {
    return this.entries.size;
  }

  /**
   * Runs one request: waits for a slot, takes an id, calls `send(id)`, and resolves with the
   * response payload settled by settle(id, …). Every exit path frees the slot and the timer.
   */
  run(options: Required<Pick<RequestOptions, 'timeoutMs'>> & RequestOptions, send: (id: number) => Promise<void>): Promise<Buffer> {
    if (this.failure) return Promise.reject(this.failure);
    if (options.signal?.aborted) return Promise.reject(canceledError('request', options.signal.reason));
    return new Promise<Buffer>((resolve, reject) => {
      let id = 0;
      let waitingForSlot: (() => void) | null = null;
      const finish = (err: Error | null, payload?: Buffer) => {
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        if (waitingForSlot) this.removeWaiter(waitingForSlot);
        if (id !== 0 && this.entries.delete(id)) this.releaseSlot();
        if (err) reject(err);
        else resolve(payload!);
      };
      const timer = setTimeout(() => finish(new UsbFnError(ErrorCodes.TIMEOUT, `request ${id || '(queued)'}: no response within ${options.timeoutMs} ms`, { operation: 'request' })), options.timeoutMs);
      const onAbort = () => finish(canceledError('request', options.signal?.reason));
      options.signal?.addEventListener('abort', onAbort, { once: true });
      const start = () => {
        waitingForSlot = null;
        if (this.failure) return finish(this.failure);
        id = this.takeId();
        this.entries.set(id, { resolve: (p) => finish(null, p), reject: (e) => finish(e) });
        send(id).catch((err: Error) => finish(err));
      };
      if (this.entries.size < this.maxPending) start();
      else {
        waitingForSlot = start;
        this.slotWaiters.push(start);
      }
    });
  }

  /** A response (or error response) arrived: true if a request was waiting for it. */
  settle(id: number, result: { payload: Buffer } | { error: Error }): boolean {
    const entry = this.entries.get(id);
    if (!entry) return false;
    if ('error' in result) entry.reject(result.error);
    else entry.resolve(result.payload);
    return true;
  }

  /** Rejects every pending and queued request with `err`, and every later one too. */
  failAll(err: Error): void {
    this.failure ??= err;
    for (const entry of [...this.entries.values()]) entry.reject(err);
    for (const waiter of this.slotWaiters.splice(0)) waiter();
  }

  private takeId(): number {
    do {
      const id = this.nextId;
      this.nextId = this.nextId >= 0xffffffff ? 1 : this.nextId + 1;
      if (!this.entries.has(id)) return id;
    } while (true);
  }

  private releaseSlot(): void {
    this.slotWaiters.shift()?.();
  }

  private removeWaiter(waiter: () => void): void {
    const i = this.slotWaiters.indexOf(waiter);
    if (i >= 0) this.slotWaiters.splice(i, 1);
  }
}
