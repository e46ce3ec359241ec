/**
 * AioQueue's per-request records: Slot, one iocb's request, reused request after request, and
 * PromiseSink, read() / write()'s promise as a TransferSink; refuseLater reports a refusal a
 * microtask later. Kept apart from the queue, which allocates the slots once and reuses them.
 */
import type { UsbFnError } from '../../errors.js';
import type { TransferSink } from '../driver.js';

/** A settled promise: `.then` on it is a bare microtask (queueMicrotask adds an AsyncResource per call). */
export const RESOLVED = Promise.resolve();

/** One iocb's request, reused request after request (`sink` null: free). */
export class Slot {
  fd = -1;
  buffer: Uint8Array | null = null; // kept referenced while the kernel owns it
  what = '';
  sink: TransferSink | null = null;
  canceledBy: unknown = null;
  /** Waiting for the next io_submit (not the kernel's yet). */
  queued = false;
  /** The pending requests of this slot's AbortSignal, this slot among them. */
  watchers: Set<Slot> | null = null;

  constructor(readonly index: number) {}
}

/** A promise's resolve / reject as a TransferSink (read() / write()). */
export class PromiseSink implements TransferSink {
  constructor(readonly transferred: (n: number) => void, readonly transferFailed: (err: unknown) => void) {}
}

/** Reports a request refused at submitTo() a microtask later: never from within the call. */
export function refuseLater(sink: TransferSink, err: UsbFnError): void {
  void RESOLVED.then(() => sink.transferFailed(err));
}
