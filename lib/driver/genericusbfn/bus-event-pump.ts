/**
 * Keeps `depth` BUS_EVENT_NOTIFICATION requests pending at all times and queues what completes,
 * so no event is lost while nobody is waiting (Microsoft's advice for this IOCTL: keep several pending).
 * Each slot owns one 12-byte buffer, decoded as soon as its request completes and then reused.
 * Completions arrive in the order the driver completed them, so the queue keeps bus order.
 */
import createDebug from 'debug';
import { decodeNotification } from '../../../native-defs/codec.js';
import { usbFnEventName } from '../../../native-defs/enums.js';
import { LAYOUT } from '../../../native-defs/layout.js';
import { ErrorCodes, UsbFnError, canceledError, isUsbFnError } from '../../errors.js';
import type { BusEvent } from '../driver.js';
import { toBusEvent } from './decode.js';

const debug = createDebug('usbfn:driver');

/** Issues one notification request into `buffer`; resolves with the driver's byte count. */
export type IssueNotification = (buffer: Uint8Array) => Promise<number>;

type Item = { event: BusEvent } | { error: UsbFnError };

interface Waiter {
  resolve(e: BusEvent): void;
  reject(err: unknown): void;
}

export class BusEventPump {
  private readonly queue: Item[] = [];
  private readonly waiters: Waiter[] = [];
  private started = false;
  private stopped = false;
  /** A failure that ended the pump; later waits reject with it once the queue is drained. */
  private fatal: UsbFnError | null = null;
  private roomWaiters: (() => void)[] = [];

  /**
   * @param issue sends one BUS_EVENT_NOTIFICATION (the driver cancels them all on close)
   * @param depth requests kept pending
   * @param queueLimit completed events held for a slow reader before slots stop re-issuing
   *   (the driver then holds further events itself)
   */
  constructor(
    private readonly issue: IssueNotification,
    private readonly depth: number,
    private readonly queueLimit: number,
  ) {}

  /** Starts the slots once; later calls do nothing. */
  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    for (let i = 0; i < this.depth; i++) void this.runSlot(i);
  }

  /** The next event in bus order; `signal` abandons only this wait. */
  next(signal?: AbortSignal): Promise<BusEvent> {
    const item = this.queue.shift();
    if (item) {
      this.wakeRoom();
      return 'event' in item ? Promise.resolve(item.event) : Promise.reject(item.error);
    }
    if (this.fatal) return Promise.reject(this.fatal);
    if (signal?.aborted) return Promise.reject(canceledError('nextBusEvent', signal.reason));
    return new Promise<BusEvent>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject };
      const onAbort = () => {
        const at = this.waiters.indexOf(waiter);
        if (at >= 0) this.waiters.splice(at, 1);
        reject(canceledError('nextBusEvent', signal!.reason));
      };
      waiter.resolve = (e) => (signal?.removeEventListener('abort', onAbort), resolve(e));
      waiter.reject = (err) => (signal?.removeEventListener('abort', onAbort), reject(err));
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  /** Events completed but not yet taken. */
  get queued(): number {
    return this.queue.length;
  }

  /** Ends the pump: waiters (and later calls, once the queue is drained) reject with `reason`. */
  stop(reason: UsbFnError): void {
    if (this.stopped) return;
    this.stopped = true;
    this.fail(reason);
    this.wakeRoom();
  }

  private async runSlot(slot: number): Promise<void> {
    const buffer = new Uint8Array(LAYOUT.NOTIFICATION_SIZE);
    while (!this.stopped) {
      if (this.queue.length >= this.queueLimit) await new Promise<void>((r) => this.roomWaiters.push(r));
      if (this.stopped) return;
      try {
        const bytes = await this.issue(buffer);
        this.deliver(this.decode(buffer, bytes));
      } catch (err) {
        if (isUsbFnError(err, ErrorCodes.CANCELED) && this.stopped) return;
        debug('notification slot %d failed: %s', slot, (err as Error).message);
        // A request that failed for any reason but cancellation-by-close ends the pump: retrying
        // a broken handle in a loop would spin; the reader learns why through next().
        this.stop(err instanceof UsbFnError ? err : new UsbFnError(ErrorCodes.DRIVER, String(err), { cause: err }));
        return;
      }
    }
  }

  private decode(buffer: Uint8Array, bytes: number): Item {
    if (bytes !== LAYOUT.NOTIFICATION_SIZE) {
      return {
        error: new UsbFnError(ErrorCodes.MALFORMED, `BUS_EVENT_NOTIFICATION returned ${bytes} bytes, expected ${LAYOUT.NOTIFICATION_SIZE}`, {
          operation: 'IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION',
        }),
      };
    }
    const notification = decodeNotification(buffer);
    debug('bus event %s', usbFnEventName(notification.event));
    return { event: toBusEvent(notification) };
  }

  private deliver(item: Item): void {
    const waiter = this.waiters.shift();
    if (!waiter) {
      this.queue.push(item);
      return;
    }
    if ('event' in item) waiter.resolve(item.event);
    else waiter.reject(item.error);
  }

  private fail(error: UsbFnError): void {
    this.fatal ??= error;
    for (const w of this.waiters.splice(0)) w.reject(this.fatal);
  }

  private wakeRoom(): void {
    for (const r of this.roomWaiters.splice(0)) r();
  }
}
