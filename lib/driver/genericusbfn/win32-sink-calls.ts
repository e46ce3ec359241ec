/**
 * How Win32IoctlDevice calls an ioctlTo sink (IoctlDevice.ioctlTo's rules): failures decided inside
 * the call wait for a microtask, yet reach their sinks before any completion harvested after them;
 * and a sink that throws never stops the harvester.
 */
import type { IoctlError } from './ioctl-device.js';

type Failed = (err: IoctlError) => void;

/** A FIFO of failures decided inside ioctlTo, delivered in a microtask or by the next completion. */
export class DeferredFailures {
  private queue: Array<{ failed: Failed; err: IoctlError }> = [];
  private readonly flush = (): void => this.deliver();

  get length(): number {
    return this.queue.length;
  }

  /** Queues `err` for `failed`; delivered in a microtask unless deliver() runs first. */
  push(failed: Failed, err: IoctlError): void {
    if (this.queue.length === 0) queueMicrotask(this.flush);
    this.queue.push({ failed, err });
  }

  /** Delivers every queued failure, in order (a sink may queue more: they wait for their microtask). */
  deliver(): void {
    const batch = this.queue;
    if (batch.length === 0) return;
    this.queue = [];
    for (const { failed, err } of batch) callSink(failed, err);
  }
}

/** Calls an ioctlTo sink; a throw surfaces as an unhandled rejection, as in a `.then` handler. */
export function callSink<T>(fn: (value: T) => void, value: T): void {
  try {
    fn(value);
  } catch (thrown) {
    void Promise.reject(thrown);
  }
}
