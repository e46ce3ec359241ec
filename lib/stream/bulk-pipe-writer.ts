/**
 * InPipeWriter: the writable half of a BulkPipe. Each written chunk is one TRANSFER_IN, never
 * merged with another (a Writable with no _writev hands chunks over one at a time), sent in
 * place without a copy. Writes are acknowledged early while fewer than `writesInFlight` are
 * outstanding, so that many transfers are in flight (one acknowledged-on-completion write at a
 * time gave a quarter of the throughput: 350 MB/s against 1.3 GB/s at 16 KiB). A failure of an
 * early-acknowledged write destroys the stream with that error, so it surfaces as 'error' (and
 * to a held write's callback, and to _final).
 *
 * ZLP: 'auto' ends every transfer whose length is a multiple of wMaxPacketSize (0 included) with
 * a zero-length packet (TRANSFER_IN_APPEND_ZERO_PKT); a per-write `zlp` overrides the policy.
 *
 * Bus life: writes the bus cancels in flight are sent again, once each and in order, after the
 * next 'configured' (cancelledWrites 'resend'), minus the whole packets the host already took;
 * or they fail the stream ('fail').
 *
 * onBusLoss 'end', on a detach: the host is gone, so every write it has not taken (in flight,
 * waiting to be re-sent, held, and any written later) is dropped: counted in `writesDropped`,
 * its writeTransfer() promise rejects USBFN_ERR_DISCONNECTED, and its write() callback is called
 * without an error (a Writable turns a callback error into 'error', and a detach is an expected
 * bus event, not a stream failure). end() still finishes. A lone writer then closes itself; a
 * BulkPipe closes once its readable side has delivered what it received and ended.
 */
import type { BusLink } from '../bus-link.js';
import type { TransferInOptions, UsbFnDriver } from '../driver/driver.js';
import { ErrorCodes, UsbFnError } from '../errors.js';
import type { ResolvedPipeOptions } from './bulk-pipe-options.js';
import { PipeEndpoint, debug, type PipeHost } from './bulk-pipe-endpoint.js';
import { bytesBeforeCancel } from './pipe-failure.js';
import { NO_DATA, WriteOp, type TransferWaiter, type WriteCallback } from './write-op.js';

export interface WriterStats {
  writesPending: number;
  writesQueued: number;
  bytesWritten: number;
  transfersCompleted: number;
  /** Writes sent again after the bus cancelled them. */
  writesResent: number;
  /** Writes dropped because the device was detached (onBusLoss 'end'). */
  writesDropped: number;
}

export class InPipeWriter extends PipeEndpoint {
  /** Accepted writes in order: the ones in flight first, then the ones waiting for the bus. */
  private readonly queue: WriteOp[] = [];
  /** Ops that completed, for the next writes. */
  private readonly spareOps: WriteOp[] = [];
  /** transferOptions with a ZLP: shared by every transfer that ends with one. */
  private readonly zlpOptions: TransferInOptions = { zlp: true, signal: this.aborter.signal };
  /** The one write past the window, acknowledged when a slot frees. */
  private held: WriteOp | null = null;
  private finalCallback: WriteCallback | null = null;
  /** While stall() waits for earlier writes: only writes up to this sequence number are issued. */
  private stallBarrier: { seq: number; waiters: Array<() => void> } | null = null;
  private failure: Error | null = null;
  private nextSeq = 0;
  private bytesWritten = 0;
  private transfersCompleted = 0;
  private writesResent = 0;
  private writesDropped = 0;
  /** onBusLoss 'end' saw a detach: nothing more goes out; see the file comment. */
  private detached = false;
  private detachedIdleWaiters: Array<() => void> = [];
  /** Called once on a detach with onBusLoss 'end' (PipeCore closes a lone writer with it). */
  onDetach: (() => void) | null = null;

  /** Called by the stream constructors in bulk-pipe.ts only. */
  constructor(driver: UsbFnDriver, link: BusLink, endpointAddress: number, options: ResolvedPipeOptions, host: PipeHost) {
    super(driver, link, endpointAddress, 'in', options, host);
  }

  get stats(): WriterStats {
    return {
      writesPending: this.pending,
      writesQueued: this.queue.length + (this.held ? 1 : 0),
      bytesWritten: this.bytesWritten,
      transfersCompleted: this.transfersCompleted,
      writesResent: this.writesResent,
      writesDropped: this.writesDropped,
    };
  }

  /**
   * The stream's _write: accepts one transfer. `zlp` undefined follows the policy. The callback
   * runs at once while the window has room, else when an earlier transfer completes.
   */
  write(data: Uint8Array, zlp: boolean | undefined, waiter: TransferWaiter | undefined, callback: WriteCallback): void {
    if (this.detached) return this.drop(waiter, callback);
    if (this.failure) return callback(this.failure);
    if (data.length === 0 && zlp === undefined && this.options.zlp === 'never' && !this.options.packetMode) {
      waiter?.resolve(0); // nothing to send, and no ZLP wanted
      return callback();
    }
    const op = this.spareOps.pop() ?? new WriteOp(this, this.driver);
    op.reset(data, zlp, this.nextSeq++, waiter);
    if (this.queue.length < this.options.writesInFlight) {
      this.queue.push(op);
      this.pump();
      return callback();
    }
    op.heldCallback = callback;
    this.held = op;
  }

  /** The stream's _final: calls back once every accepted write has completed. */
  final(callback: WriteCallback): void {
    if (this.detached) return callback();
    if (this.failure) return callback(this.failure);
    if (this.queue.length === 0 && !this.held) return callback();
    this.finalCallback = callback;
  }

  /** Halts the IN pipe after the writes accepted so far have been taken by the host (like Linux's usb_ep_set_halt). */
  override async stall(): Promise<void> {
    this.requirePipe('stall');
    const last = this.nextSeq - 1;
    if (this.queue.length > 0 && this.queue[0].seq <= last) {
      await new Promise<void>((done) => {
        this.stallBarrier ??= { seq: last, waiters: [] };
        this.stallBarrier.seq = Math.max(this.stallBarrier.seq, last);
        this.stallBarrier.waiters.push(done);
      });
    }
    await super.stall();
  }

  /**
   * Sends the queued writes the endpoint may send now, in order. A write that failed (bus or
   * stall) waits until every write issued after it has settled, so a re-send never overtakes.
   */
  protected pump(): void {
    if (!this.canTransfer) return;
    const queue = this.queue;
    // A write issued before the latest 'configured' and not settled yet may still be cancelled by
    // the bus that went down (through koffi its cancellation can arrive after the new
    // 'configured'); a write sent now would overtake its re-send. Wait until it has settled.
    // (Plain loops: a callback here would be a closure per call on the per-write path.)
    let lastSending = -1;
    for (let i = 0; i < queue.length; i++) {
      if (!queue[i].sending) continue;
      if (queue[i].epoch !== this.epoch) return;
      lastSending = i;
    }
    for (let i = 0; i < lastSending; i++) if (!queue[i].sending) return;
    for (let i = lastSending + 1; i < queue.length; i++) {
      const op = queue[i];
      if (this.stallBarrier && op.seq > this.stallBarrier.seq) break;
      this.send(op);
    }
  }

  private send(op: WriteOp): void {
    const pipe = this.pipe!;
    // The ZLP decision is the whole write's: what already went out was whole packets.
    const zlp = op.zlp ?? (this.options.zlp === 'auto' && op.data.length % pipe.maxPacketSize === 0);
    op.sending = true;
    op.epoch = this.epoch;
    if (op.sent > 0 && op.sent === op.data.length && !zlp) {
      // The host took every byte before the bus cancelled it: nothing is left to send.
      void Promise.resolve().then(() => this.completed(op));
      return;
    }
    const rest = op.sent > 0 ? op.data.subarray(op.sent) : op.data;
    this.pending++;
    op.transfer.submit(pipe.pipeId, rest, zlp ? this.zlpOptions : this.transferOptions);
  }

  /** An op's transfer settled (`err` null: the host took it). */
  writeSettled(op: WriteOp, err: unknown): void {
    this.settled();
    if (err === null) this.completed(op);
    else this.failed(op, err);
  }

  private completed(op: WriteOp): void {
    this.succeeded();
    this.remove(op);
    const length = op.data.length;
    const waiter = op.waiter;
    op.reset(NO_DATA, undefined, 0, undefined); // nothing refers to it now: out of the queue, settled
    this.spareOps.push(op);
    this.bytesWritten += length;
    this.transfersCompleted++;
    waiter?.resolve(length);
    if (this.detached) return this.checkDetachedIdle();
    this.admitHeld();
    if (this.stallBarrier && !(this.queue.length > 0 && this.queue[0].seq <= this.stallBarrier.seq)) this.openStallBarrier();
    if (this.queue.length === 0 && !this.held && this.finalCallback) return this.takeFinal()();
    this.pump(); // a write held behind this one for re-sending may go now
  }

  private failed(op: WriteOp, err: unknown): void {
    op.sending = false;
    const kind = this.classify(err, op.epoch);
    if (kind === 'aborted') return;
    if (this.detached) return this.dropQueued(op);
    if (kind === 'bus' && this.options.cancelledWrites === 'fail') {
      return this.failAll(new UsbFnError(ErrorCodes.CANCELED, 'a write was cancelled by the bus (cancelledWrites: fail)', { cause: err }));
    }
    if (kind === 'fatal') return this.failAll(err as Error);
    if (kind === 'retry') return this.pump(); // in order: pump waits for the writes issued after it
    // 'bus' or 'stall': stays queued, in order, and goes out again when the endpoint may transfer,
    // minus the whole packets the host already took (it saw them ACKed: sending them again
    // would duplicate them).
    op.sent += bytesBeforeCancel(err, op.data.length - op.sent);
    this.writesResent++;
    debug('ep 0x%s: write of %d bytes held for re-sending (%s)', this.endpointAddress.toString(16), op.data.length, kind);
    this.pump();
  }

  /** Moves the held write into the window and acknowledges it. */
  private admitHeld(): void {
    if (!this.held || this.queue.length >= this.options.writesInFlight) return;
    const op = this.held;
    const callback = op.heldCallback!;
    this.held = null;
    this.queue.push(op);
    this.pump();
    callback();
  }

  /** onBusLoss 'end' on Detach: drops what the host has not taken (see the file comment). */
  protected endOnDetach(): void {
    this.detached = true;
    for (const op of this.queue.filter((o) => !o.sending)) this.dropQueued(op);
    if (this.held) {
      const op = this.held;
      const callback = op.heldCallback!;
      this.held = null;
      this.drop(op.waiter, callback);
    }
    if (this.finalCallback) this.takeFinal()();
    this.checkDetachedIdle();
    this.onDetach?.();
  }

  /** Resolves once, after a detach (onBusLoss 'end'), every write in flight has settled. */
  whenDetachedIdle(): Promise<void> {
    return new Promise((resolve) => {
      this.detachedIdleWaiters.push(resolve);
      this.checkDetachedIdle();
    });
  }

  private dropQueued(op: WriteOp): void {
    this.remove(op);
    this.drop(op.waiter, () => undefined);
    this.checkDetachedIdle();
  }

  private drop(waiter: TransferWaiter | undefined, callback: WriteCallback): void {
    this.writesDropped++;
    waiter?.reject(new UsbFnError(ErrorCodes.DISCONNECTED, 'the device was detached before the host took this write'));
    callback();
  }

  private checkDetachedIdle(): void {
    if (!this.detached || this.queue.length > 0 || this.detachedIdleWaiters.length === 0) return;
    for (const wake of this.detachedIdleWaiters.splice(0)) wake();
  }

  /** Settles everything with `err` and destroys the stream with it. */
  private failAll(err: Error): void {
    this.failure ??= err;
    this.settleAll(err);
    this.fail(err);
  }

  private settleAll(err: Error): void {
    for (const op of this.queue.splice(0)) op.waiter?.reject(err);
    if (this.held) {
      const op = this.held;
      const callback = op.heldCallback!;
      this.held = null;
      op.waiter?.reject(err);
      callback(err);
    }
    if (this.finalCallback) this.takeFinal()(err);
  }

  protected release(err: Error | null): void {
    this.settleAll(err ?? this.failure ?? new UsbFnError(ErrorCodes.CLOSED, 'the pipe was closed before the write was sent'));
    this.openStallBarrier(); // a stall() still waiting then fails with USBFN_ERR_CLOSED
  }

  /** Lets every stall() waiting for earlier writes go on to SET_PIPE_STATE. */
  private openStallBarrier(): void {
    const waiters = this.stallBarrier?.waiters ?? [];
    this.stallBarrier = null;
    for (const done of waiters) done();
  }

  private takeFinal(): WriteCallback {
    const callback = this.finalCallback!;
    this.finalCallback = null;
    return callback;
  }

  private remove(op: WriteOp): void {
    const queue = this.queue;
    if (queue[0] === op) return void queue.shift(); // nearly always: writes complete in order
    const i = queue.indexOf(op);
    if (i >= 0) queue.splice(i, 1);
  }
}
