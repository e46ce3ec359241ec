/**
 * BUS_EVENT_NOTIFICATION: pending requests wait for events; events that happen while none is
 * pending wait for a request, FIFO. The queue is bounded (a device that never reads must not
 * grow memory without end): past the limit the *oldest* event is dropped, counted and
 * debug-logged, because the newest events (the latest Reset, Configured or Detach) are the ones
 * a device needs to recover its state; an old SetupPacket is stale anyway once a newer one came.
 */
import createDebug from 'debug';
import { encodeNotification, type Notification } from '../../../native-defs/codec.js';
import { usbFnEventName } from '../../../native-defs/enums.js';
import { LAYOUT } from '../../../native-defs/layout.js';
import type { IoctlRequest } from './completions.js';

const debug = createDebug('usbfn:emulator');

/** Pending BUS_EVENT_NOTIFICATION requests and the events waiting for one (see the file comment). */
export class BusEventQueue {
  private readonly waiting: IoctlRequest[] = [];
  private readonly queued: Notification[] = [];
  /** Events dropped because the queue was full. */
  dropped = 0;

  constructor(
    private readonly limit: number,
    private readonly complete: (req: IoctlRequest, errno: number, bytesReturned: number, n: Notification) => void,
  ) {}

  /** BUS_EVENT_NOTIFICATION requests waiting for an event. */
  get waitingCount(): number {
    return this.waiting.length;
  }

  /** Events waiting for a BUS_EVENT_NOTIFICATION request. */
  get queuedCount(): number {
    return this.queued.length;
  }

  /** A BUS_EVENT_NOTIFICATION request (output already checked ≥ 12 bytes): served now or parked. */
  addRequest(req: IoctlRequest): void {
    const next = this.queued.shift();
    if (next) return this.deliver(req, next);
    this.waiting.push(req);
    req.cancel = () => {
      const i = this.waiting.indexOf(req);
      if (i >= 0) this.waiting.splice(i, 1);
      return 0;
    };
  }

  /** An event happened on the bus. */
  post(n: Notification): void {
    debug('event %s', usbFnEventName(n.event));
    const req = this.waiting.shift();
    if (req) return this.deliver(req, n);
    if (this.queued.length >= this.limit) {
      const lost = this.queued.shift()!;
      this.dropped++;
      debug('event queue full (%d): dropped oldest %s', this.limit, usbFnEventName(lost.event));
    }
    this.queued.push(n);
  }

  /** Forgets queued events (the handle closed). */
  clear(): void {
    this.queued.length = 0;
  }

  private deliver(req: IoctlRequest, n: Notification): void {
    // METHOD_OUT_DIRECT: the 12 bytes land in the caller's own buffer.
    // (cast: codec.ts infers its default parameter as Uint8Array<ArrayBuffer>; any Uint8Array works)
    encodeNotification(n, req.output as Uint8Array<ArrayBuffer>);
    this.complete(req, 0, LAYOUT.NOTIFICATION_SIZE, n);
  }
}
