/**
 * The packet engine of one direction of one endpoint: a FIFO of *sources* (whoever sends: the
 * device's TRANSFER_IN on an IN pipe, the host's bulkOut on an OUT pipe) matched against a FIFO
 * of *sinks* (whoever receives), cut into packets of the pipe's max packet size exactly as USB
 * would, so transfer boundaries, short packets and ZLPs are what real hardware shows.
 *
 * Speed matters more than elegance here (a benchmark pushes hundreds of MiB through it): runs of
 * whole packets are copied with one `set()`, nothing is allocated per packet, no timers. Ends are
 * reported through each transfer's `onEnd`; callers defer the promise settling themselves.
 */

import type { AbortReason } from './host-op.js';
import type { LinkClock } from './link-model.js';

/** How a transfer ended: 'ok', or 'overflow' (a packet larger than the sink's space left: babble). */
export type XferOutcome = 'ok' | 'overflow';

/** One transfer queued on a PacketPipe. Sources send `buf`; sinks receive into `buf`. */
export class Xfer {
  /** Bytes moved so far. */
  done = 0;
  /** Set once `onEnd` has run; a transfer ends once only. */
  ended = false;
  /** Modelled bus time (ns) from which it may move; only with a link clock. */
  readyNs = 0;

  /**
   * @param buf what a source sends or a sink fills
   * @param zlp source only: a zero-length packet still follows the data
   * @param side who queued it: the bus aborts one side only on a stall
   * @param onEnd called once, synchronously, when the transfer is complete on the bus
   * @param onAbort called once when the bus takes it away (reset, detach, stall…)
   */
  constructor(
    readonly buf: Uint8Array,
    public zlp: boolean,
    readonly side: 'device' | 'host',
    readonly onEnd: (x: Xfer, outcome: XferOutcome) => void,
    readonly onAbort: (x: Xfer, reason: AbortReason) => void,
  ) {}
}

/** One direction of one endpoint: sources matched against sinks, packet by packet. */
export class PacketPipe {
  readonly sources: Xfer[] = [];
  readonly sinks: Xfer[] = [];
  /** False while the bus does not move packets on this pipe (halted, unconfigured, suspended). */
  enabled = true;
  /** With a link clock: true from a device transfer's end until the device has reacted to it. */
  private held = false;

  /** @param clock the modelled bus time of a data pipe (link-model.ts); none = instant. */
  constructor(public mps: number, readonly clock?: LinkClock) {}

  /** Queues a sending transfer and moves whatever can move now. */
  addSource(x: Xfer): void {
    if (this.clock) x.readyNs = this.clock.readyAt(x.side);
    this.sources.push(x);
    this.pump();
  }

  /** Queues a receiving transfer and moves whatever can move now. */
  addSink(x: Xfer): void {
    if (this.clock) x.readyNs = this.clock.readyAt(x.side);
    this.sinks.push(x);
    this.pump();
  }

  /** Takes `x` off whichever queue holds it (no onEnd). True if it was queued. */
  remove(x: Xfer): boolean {
    // Usually the head (a transfer ends in FIFO order): no search, no allocation.
    if (this.sources[0] === x) return this.sources.shift() !== undefined;
    if (this.sinks[0] === x) return this.sinks.shift() !== undefined;
    return spliceOut(this.sources, x) || spliceOut(this.sinks, x);
  }

  /** Ends `x` by the bus: off its queue, then its onEnd. Idempotent. */
  end(x: Xfer, outcome: XferOutcome = 'ok'): void {
    if (x.ended) return;
    x.ended = true;
    this.remove(x);
    if (this.clock && x.side === 'device') this.holdForDevice(this.clock);
    x.onEnd(x, outcome);
  }

  /** Takes every transfer (of `side`, or both) off the pipe and runs its onAbort. */
  abort(reason: AbortReason, side?: 'device' | 'host'): void {
    for (const q of [this.sources, this.sinks]) {
      for (const x of q.filter((t) => side === undefined || t.side === side)) {
        q.splice(q.indexOf(x), 1);
        x.ended = true;
        x.onAbort(x, reason);
      }
    }
  }

  /** Takes `x` off the pipe for a cancellation (signal, close): true if it was still queued. */
  cancel(x: Xfer): boolean {
    if (x.ended) return false;
    x.ended = true;
    return this.remove(x);
  }

  /** Moves packets while both sides have a transfer queued and the pipe is enabled. */
  pump(): void {
    while (!this.held && this.enabled && this.sources.length > 0 && this.sinks.length > 0) {
      this.step(this.sources[0], this.sinks[0]);
    }
  }

  /** Stops moving packets until the device has reacted to the completion decided now (link-model.ts). */
  private holdForDevice(clock: LinkClock): void {
    if (this.held) return;
    this.held = true;
    clock.deviceCompleted(() => {
      this.held = false;
      this.pump();
    });
  }

  /** One round: a run of whole packets, then at most one short packet, ZLP or overflowing packet. */
  private step(s: Xfer, d: Xfer): void {
    const mps = this.mps;
    const left = s.buf.length - s.done;
    this.clock?.waitUntil(Math.max(s.readyNs, d.readyNs));
    if (left === 0) {
      // Only a pending ZLP leaves a source with nothing left: it ends the sink's transfer.
      s.zlp = false;
      this.clock?.move(0, 1);
      this.end(s);
      this.end(d);
      return;
    }
    const room = d.buf.length - d.done;
    const whole = Math.min(left - (left % mps), room - (room % mps));
    if (whole > 0) this.copy(s, d, whole, whole / mps);
    if (this.sourceFinished(s)) this.end(s);
    if (d.done === d.buf.length && d.buf.length > 0) return this.end(d);
    if (whole === left) return; // source drained (a ZLP, if any, goes next round)
    // Now left' < mps or room' < mps: the next packet is short, or does not fit.
    const packet = Math.min(left - whole, mps);
    if (packet > room - whole) {
      s.done += packet; // the host ACKed it; the data is lost, as with babble
      this.clock?.move(packet, 1);
      if (this.sourceFinished(s)) this.end(s);
      return this.end(d, 'overflow');
    }
    this.copy(s, d, packet, 1);
    if (this.sourceFinished(s)) this.end(s);
    this.end(d); // a short packet ends the receiving transfer
  }

  private sourceFinished(s: Xfer): boolean {
    return s.done === s.buf.length && !s.zlp;
  }

  private copy(s: Xfer, d: Xfer, n: number, packets: number): void {
    d.buf.set(s.buf.subarray(s.done, s.done + n), d.done);
    s.done += n;
    d.done += n;
    this.clock?.move(n, packets);
  }
}

function spliceOut(q: Xfer[], x: Xfer): boolean {
  const i = q.indexOf(x);
  if (i >= 0) q.splice(i, 1);
  return i >= 0;
}
