/**
 * BUS_EVENT_NOTIFICATION: pending requests wait for events; events that happen while none is
 * pending wait for a request, FIFO. The queue is bounded (a device that never reads must not
 * grow memory without end): past the limit the *oldest* event is dropped, counted and
 * debug-logged, because the newest events (the latest Reset, Configured or Detach) are the ones
 * a device needs to recover its state; an old SetupPacket is stale anyway once a newer one came.
 *
 * The loss fence (see fenceUntilTakenIn) needs to know when the device has taken in an event.
 * A request re-issued after *some* completion proves nothing: a device keeps several pending and
 * harvests completions late and in order (through koffi, from its completion port: 90 ms late in
 * a loaded soak), so the first re-issue after a loss may come from a slot that harvested an older
 * event. What does prove it: each slot asks again once per event it harvested, so after the
 * device has harvested the n-th event delivered it has asked `depth + n` times, `depth` being
 * the requests it keeps (the most ever parked at once).
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
  /** Events posted so far; an event's sequence number is the value right after it was posted. */
  posted = 0;
  /** Events no longer queued: delivered to a request, dropped, or cleared (FIFO, so in posting order). */
  private gone = 0;
  /** Events delivered to a request so far (the n-th one has index n). */
  private delivered = 0;
  /** Requests received, minus those cancelled unanswered. */
  private asked = 0;
  /** The requests the device keeps pending: the most ever parked at once. */
  private depth = 0;
  /** The latest bus loss posted, with its delivery index once delivered (0 before). */
  private latestLoss: { loss: Notification; index: number } | null = null;
  /** The loss the device must take in before data may move (see the file comment); null: none. */
  private fence: { loss: Notification; index: number } | null = null;
  private goneWaiters: Array<{ seq: number; wake: () => void }> = [];

  constructor(
    private readonly limit: number,
    private readonly complete: (req: IoctlRequest, errno: number, bytesReturned: number, n: Notification) => void,
  ) {}

  /** Events waiting for a BUS_EVENT_NOTIFICATION request. */
  get queuedCount(): number {
    return this.queued.length;
  }

  /** The device asks for bus events: it has asked at least once and not cancelled every request since. */
  get listening(): boolean {
    return this.depth > 0;
  }

  /** True while a loss posted with `fence` has not been taken in by the device (see the file comment). */
  get fenced(): boolean {
    return this.fence !== null;
  }

  /**
   * A data transfer failed because of the latest loss (refused while the bus was down): fences
   * until the device has taken that loss in, unless it has already. The device may have sent it
   * on a completion it harvested late, and the ones it sends on the next could otherwise reach a
   * host that configured again ahead of this one's re-send.
   */
  fenceLatestLoss(): void {
    const loss = this.latestLoss;
    if (!loss || !this.listening || this.takenIn(loss.index)) return;
    this.fence = loss;
  }

  /** The device has harvested the event delivered `index`-th (0: not delivered yet): see the top. */
  private takenIn(index: number): boolean {
    return index > 0 && this.asked - this.depth >= index;
  }

  /** A BUS_EVENT_NOTIFICATION request (output already checked ≥ 12 bytes): served now or parked. */
  addRequest(req: IoctlRequest): void {
    this.asked++;
    // This request is the slot's next after its (asked - depth)-th harvested event: see the top.
    if (this.fence && this.takenIn(this.fence.index)) {
      debug('the device has taken in the loss: data transfers allowed again');
      this.fence = null;
    }
    const next = this.queued.shift();
    if (next) return this.deliver(req, next);
    this.waiting.push(req);
    this.depth = Math.max(this.depth, this.waiting.length);
    req.cancel = () => {
      const i = this.waiting.indexOf(req);
      if (i < 0) return 0;
      this.waiting.splice(i, 1);
      this.asked--;
      // Every request cancelled (the handle closed): whoever asks next starts afresh.
      if (this.waiting.length === 0) this.restartCounting();
      return 0;
    };
  }

  /**
   * An event happened on the bus. `loss`: a reset, unconfigure or detach; 'fence': one that
   * cancelled the device's data transfers, so `fenced` stays true until the device has taken it
   * in (it may be queued still).
   */
  post(n: Notification, loss: 'loss' | 'fence' | false = false): void {
    debug('event %s', usbFnEventName(n.event));
    if (loss) this.latestLoss = { loss: n, index: 0 };
    // A fence moves to the newest loss: only the latest one's delivery is tracked, and taking it
    // in means every earlier one was taken in (events are harvested in order).
    if (loss && (loss === 'fence' || this.fence)) this.fence = this.latestLoss;
    this.posted++;
    const req = this.waiting.shift();
    if (req) return this.deliver(req, n);
    if (this.queued.length >= this.limit) {
      const lost = this.queued.shift()!;
      this.dropped++;
      this.left(1);
      debug('event queue full (%d): dropped oldest %s', this.limit, usbFnEventName(lost.event));
    }
    this.queued.push(n);
  }

  /** Forgets queued events (the handle closed). */
  clear(): void {
    this.left(this.queued.length);
    this.queued.length = 0;
    this.restartCounting();
  }

  private restartCounting(): void {
    this.asked = this.delivered;
    this.depth = 0;
    this.fence = null;
    this.latestLoss = null;
  }

  /**
   * Calls `wake` once the events up to sequence number `seq` (see `posted`) have left the queue:
   * delivered to the device, dropped or cleared. Returns an unsubscribe.
   */
  whenGone(seq: number, wake: () => void): () => void {
    if (this.gone >= seq) {
      wake();
      return () => {};
    }
    const waiter = { seq, wake };
    this.goneWaiters.push(waiter);
    return () => {
      this.goneWaiters = this.goneWaiters.filter((w) => w !== waiter);
    };
  }

  private left(count: number): void {
    this.gone += count;
    const due = this.goneWaiters.filter((w) => w.seq <= this.gone);
    if (due.length === 0) return;
    this.goneWaiters = this.goneWaiters.filter((w) => w.seq > this.gone);
    for (const w of due) w.wake();
  }

  private deliver(req: IoctlRequest, n: Notification): void {
    // METHOD_OUT_DIRECT: the 12 bytes land in the caller's own buffer.
    // (cast: codec.ts infers its default parameter as Uint8Array<ArrayBuffer>; any Uint8Array works)
    encodeNotification(n, req.output as Uint8Array<ArrayBuffer>);
    this.delivered++;
    if (this.latestLoss?.loss === n) this.latestLoss.index = this.delivered;
    this.complete(req, 0, LAYOUT.NOTIFICATION_SIZE, n);
    this.left(1);
  }
}
