/**
 * The device's bus events as users see them: one typed map for the EventEmitter, one tagged
 * union for the async iterator (its `type` is the emitter's event name), the mapping from the
 * driver's BusEvent, and the bounded queue behind `device.events()`.
 */
import type { BusEvent, BusSpeed } from '../driver/driver.js';
import type { DeviceState } from '../bus-link.js';
import { checkOptions, checkSignal } from '../validate.js';
import { ErrorCodes, UsbFnError, canceledError } from '../errors.js';

/** A bus event as the async iterator yields it. Setup packets go to `device.control`, not here. */
export type DeviceEvent =
  | { type: 'attach'; speed: BusSpeed | number }
  | { type: 'reset'; speed: BusSpeed | number }
  | { type: 'detach' }
  | { type: 'suspend' }
  | { type: 'resume' }
  | { type: 'configured'; configurationValue: number }
  | { type: 'unconfigured' }
  | { type: 'porttype'; portType: number }
  | { type: 'busteardown' }
  | { type: 'setinterface'; interfaceNumber: number; alternateSetting: number }
  /** An event code this library does not know: `raw` is the notification's 8 union bytes. */
  | { type: 'event'; code: number; raw: Uint8Array };

/** The `type` tags of DeviceEvent (the emitter's event names, setup excluded). */
export type DeviceEventType = DeviceEvent['type'];

/** The typed EventEmitter map of UsbFnDevice: the arguments each event is emitted with. */
export interface UsbFnDeviceEvents {
  attach: [speed: BusSpeed | number];
  reset: [speed: BusSpeed | number];
  detach: [];
  suspend: [];
  resume: [];
  configured: [configurationValue: number];
  unconfigured: [];
  porttype: [portType: number];
  busteardown: [];
  setinterface: [interfaceNumber: number, alternateSetting: number];
  /** An unknown event code, with the 8 raw union bytes. */
  event: [code: number, raw: Uint8Array];
  /** The bus state changed (after the event that changed it is applied, before it is emitted). */
  state: [state: DeviceState, previous: DeviceState];
  /** destroy(err) or a fatal driver failure. */
  error: [err: Error];
  /** Everything is released. */
  close: [];
}

/** The user-facing event for a driver BusEvent; null for setup packets (they go to the control channel). */
export function toDeviceEvent(ev: BusEvent): DeviceEvent | null {
  switch (ev.type) {
    case 'setup':
      return null;
    case 'unknown':
      return { type: 'event', code: ev.code, raw: ev.raw };
    case 'configured':
      // SET_CONFIGURATION 0 is an unconfigure, whatever the driver called it.
      return ev.configurationValue === 0 ? { type: 'unconfigured' } : ev;
    default:
      return ev;
  }
}

/** The emitter arguments of a DeviceEvent. */
export function emitterArgs(ev: DeviceEvent): unknown[] {
  switch (ev.type) {
    case 'attach':
    case 'reset':
      return [ev.speed];
    case 'configured':
      return [ev.configurationValue];
    case 'porttype':
      return [ev.portType];
    case 'setinterface':
      return [ev.interfaceNumber, ev.alternateSetting];
    case 'event':
      return [ev.code, ev.raw];
    default:
      return [];
  }
}

/** Options of `device.events()`. */
export interface EventIteratorOptions {
  /** Ends the iteration: the pending next() and every later one reject USBFN_ERR_CANCELED. */
  signal?: AbortSignal;
  /**
   * Events held for a consumer slower than the bus (default 1024). The bus is never held back
   * for an iterator (that would stall the control channel too): when the buffer is full the
   * iteration fails with USBFN_ERR_OVERFLOW after the events already buffered.
   */
  limit?: number;
}

/**
 * One `device.events()` iteration: a bounded FIFO filled by the device, drained by for-await.
 * Ends (done) when the device closes, throws when it is destroyed with an error.
 */
export class EventIterator implements AsyncIterableIterator<DeviceEvent> {
  private readonly queue: DeviceEvent[] = [];
  private waiter: { resolve(r: IteratorResult<DeviceEvent>): void; reject(e: unknown): void } | null = null;
  private failure: unknown = null;
  private done = false;
  private readonly limit: number;
  private readonly offAbort: () => void;

  /** @param detach called once when the iteration ends, so the device forgets it. */
  constructor(options: EventIteratorOptions, private readonly detach: (it: EventIterator) => void) {
    checkOptions('device.events', options, ['signal', 'limit']);
    checkSignal('device.events', options.signal);
    this.limit = options.limit ?? 1024;
    if (!Number.isInteger(this.limit) || this.limit < 1) throw new UsbFnError(ErrorCodes.INVALID_ARG, `limit must be a positive integer, got ${options.limit}`);
    const signal = options.signal;
    const onAbort = () => this.fail(canceledError('device.events()', signal?.reason));
    if (signal?.aborted) queueMicrotask(onAbort);
    else signal?.addEventListener('abort', onAbort, { once: true });
    this.offAbort = () => signal?.removeEventListener('abort', onAbort);
  }

  /** @internal The device delivers an event. */
  push(ev: DeviceEvent): void {
    if (this.done || this.failure) return;
    if (this.waiter) return this.settle({ value: ev, done: false });
    if (this.queue.length >= this.limit) {
      return this.fail(new UsbFnError(ErrorCodes.OVERFLOW, `device.events(): more than ${this.limit} events buffered for a slow consumer`));
    }
    this.queue.push(ev);
  }

  /** @internal The device closed: buffered events are still delivered, then done. */
  end(): void {
    if (this.done) return;
    this.done = true;
    this.release();
    if (this.waiter && this.queue.length === 0) this.settle({ value: undefined, done: true });
  }

  /** @internal The device was destroyed with `err` (or the signal aborted): delivered after buffered events. */
  fail(err: unknown): void {
    if (this.done || this.failure) return;
    this.failure = err;
    this.release();
    if (this.waiter && this.queue.length === 0) {
      const w = this.waiter;
      this.waiter = null;
      w.reject(err);
    }
  }

  next(): Promise<IteratorResult<DeviceEvent>> {
    const ev = this.queue.shift();
    if (ev) return Promise.resolve({ value: ev, done: false });
    if (this.failure) {
      const err = this.failure;
      this.failure = null;
      this.done = true;
      return Promise.reject(err);
    }
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    if (this.waiter) return Promise.reject(new UsbFnError(ErrorCodes.INVALID_STATE, 'device.events(): next() called while another next() is pending'));
    return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
  }

  /** `break` out of for-await: stops buffering. */
  return(): Promise<IteratorResult<DeviceEvent>> {
    this.queue.length = 0;
    this.failure = null;
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private settle(result: IteratorResult<DeviceEvent>): void {
    const w = this.waiter!;
    this.waiter = null;
    w.resolve(result);
  }

  private release(): void {
    this.offAbort();
    this.detach(this);
  }
}
