/**
 * PipeEndpoint: what the reading half (OUT pipe) and the writing half (IN pipe) of a BulkPipe
 * share: following the bus (which pipe id and wMaxPacketSize the endpoint has in the current
 * configuration, when transfers may be issued), classifying transfer failures, the stall API,
 * and counting pending transfers so that closing waits until the driver has let go of every
 * buffer. The stream classes in bulk-pipe.ts own one or two of these; nothing else does.
 *
 * Bus life: every 'configured' starts a new epoch. A transfer cancelled by the bus in the epoch
 * it was issued in holds the endpoint until the next epoch, whichever of the cancellation and
 * the link's 'deconfigured' arrives first, so nothing is re-issued into a bus that is going down.
 */
import { setMaxListeners } from 'node:events';
import createDebug from 'debug';
import type { BusLink, DeconfigureReason } from '../bus-link.js';
import type { OpOptions, PipeInfo, UsbFnDriver } from '../driver/driver.js';
import { ErrorCodes, UsbFnError, isUsbFnError } from '../errors.js';
import type { ResolvedPipeOptions } from './bulk-pipe-options.js';
import { ERROR_GEN_FAILURE, GEN_FAILURE_RETRIES, type FailureKind } from './pipe-failure.js';

// Typed as a plain function so that the shipped .d.ts needs no @types/debug.
export const debug: (formatter: string, ...args: unknown[]) => void = createDebug('usbfn:pipe');

/** 'out' = host to device (the readable side), 'in' = device to host (the writable side). */
export type PipeDirection = 'in' | 'out';

/** Payload of a pipe's 'stall' event. */
export interface StallEvent {
  direction: PipeDirection;
  endpointAddress: number;
  /** USBFN_ERR_STALLED, with the driver's failure as cause. */
  error: UsbFnError;
}

/** What an endpoint needs from the stream that owns it (a Duplex, Readable or Writable). */
export interface PipeHost {
  readonly destroyed: boolean;
  destroy(err?: Error): unknown;
  emit(event: string | symbol, ...args: unknown[]): boolean;
}

export abstract class PipeEndpoint {
  /** The pipe in the current configuration; null before the first 'configured'. */
  protected pipe: PipeInfo | null = null;
  /** Counts 'configured' events seen (1 = the first configuration). */
  protected epoch = 0;
  /** Transfers wait until `epoch` reaches this (set when the bus cancels the current epoch). */
  private resumeEpoch = 0;
  /** The pipe is halted: no transfer is issued until the halt is cleared. */
  protected stalled = false;
  /**
   * Our own stall() halted the pipe and no transfer has moved since. Transfers go on being issued
   * meanwhile: FunctionFS queues them behind the halt and moves them once the host clears it (it
   * never tells the function otherwise); GenericUSBFn.sys refuses them (STALLED), and the
   * endpoint then holds, quietly, polling GET_PIPE_STATE for the host's CLEAR_FEATURE.
   */
  private ownHalt = false;
  /** close() began: nothing new is issued. */
  protected closed = false;
  /** Aborts every transfer of this endpoint when closing. */
  protected readonly aborter = new AbortController();
  /** The options every transfer of this endpoint passes: one object, not one per transfer. */
  protected readonly transferOptions: OpOptions = { signal: this.aborter.signal };
  /** Transfers issued and not yet settled. */
  protected pending = 0;
  private idleWaiters: Array<() => void> = [];
  /** ERROR_GEN_FAILUREs since the last transfer that succeeded. */
  private genFailures = 0;
  private pollTimer: NodeJS.Timeout | null = null;

  constructor(
    protected readonly driver: UsbFnDriver,
    protected readonly link: BusLink,
    readonly endpointAddress: number,
    readonly direction: PipeDirection,
    protected readonly options: ResolvedPipeOptions,
    protected readonly host: PipeHost,
  ) {
    // A device may link this signal once per pending transfer (the Win32 device does; the
    // emulator shares one listener per signal): up to readsOutstanding or writesInFlight at a
    // time, more than EventTarget's default warning level.
    setMaxListeners(256, this.aborter.signal);
    link.on('configured', this.onConfigured);
    link.on('deconfigured', this.onDeconfigured);
    link.on('closed', this.onLinkClosed);
    if (link.configured) this.adoptConfiguration();
  }

  /** Transfers in flight at the driver right now. */
  get pendingTransfers(): number {
    return this.pending;
  }

  /** Issue transfers now? Configured, this endpoint present, not halted, not closing. */
  protected get canTransfer(): boolean {
    return !this.closed && this.pipe !== null && this.link.configured && !this.stalled && this.epoch >= this.resumeEpoch;
  }

  /** Issues whatever the endpoint can issue now (called after every change that may allow it). */
  protected abstract pump(): void;

  /** A Detach with onBusLoss 'end'. */
  protected abstract endOnDetach(): void;

  /** Releases what the endpoint holds once nothing is pending (buffers, held callbacks). */
  protected abstract release(err: Error | null): void;

  /** Checks the pipe of a new configuration; returns an error to destroy the stream with, or null. */
  protected checkPipe(_pipe: PipeInfo): UsbFnError | null {
    return null;
  }

  /** Sends SET_PIPE_STATE(TRUE). The writer first lets the writes already accepted go out. */
  async stall(): Promise<void> {
    const pipeId = this.requirePipe('stall').pipeId;
    this.stalled = true; // nothing new is issued until the halt is in place
    try {
      await this.driver.setPipeState(pipeId, true, { signal: this.aborter.signal });
    } catch (err) {
      this.leaveStall(); // the halt did not happen: carry on
      throw err;
    }
    this.ownHalt = true;
    this.leaveStall(); // see ownHalt: the host's view is halted until it or clearStall() clears it
  }

  /** Sends SET_PIPE_STATE(FALSE) and resumes transfers held by the halt. */
  async clearStall(): Promise<void> {
    await this.driver.setPipeState(this.requirePipe('clearStall').pipeId, false, { signal: this.aborter.signal });
    this.ownHalt = false;
    this.leaveStall();
  }

  /** GET_PIPE_STATE: true when the pipe is halted (by stall() or by the host). */
  isStalled(): Promise<boolean> {
    return this.driver.getPipeState(this.requirePipe('isStalled').pipeId, { signal: this.aborter.signal });
  }

  /**
   * Stops issuing, aborts every pending transfer, waits until each has settled (the driver has let
   * go of its buffer), then releases everything. Idempotent; called from the stream's _destroy.
   */
  async close(err: Error | null): Promise<void> {
    if (this.closed) return this.whenIdle();
    this.closed = true;
    this.stopPolling();
    this.link.off('configured', this.onConfigured);
    this.link.off('deconfigured', this.onDeconfigured);
    this.link.off('closed', this.onLinkClosed);
    this.aborter.abort(new UsbFnError(ErrorCodes.CLOSED, 'the pipe was closed'));
    await this.whenIdle();
    this.release(err);
  }

  /**
   * A transfer of this endpoint has settled (the caller issued it with `pending++` and calls this
   * first thing in its one `.then`): wakes close() when it was the last. One `.then` per transfer
   * instead of a tracking wrapper with its own: the hot path's cost is counted in promises.
   */
  protected settled(): void {
    if (--this.pending > 0 || this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const wake of waiters) wake();
  }

  /** Resolves once no transfer of this endpoint is pending. */
  protected whenIdle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Classifies a failed transfer issued in `issuedEpoch`. Bus cancellations (and the refusals a
   * bus going down causes) hold the endpoint until the next configuration; a stall holds it until
   * cleared (or destroys the stream with onStall 'error'); anything else is fatal.
   */
  protected classify(err: unknown, issuedEpoch: number): FailureKind {
    if (this.closed || this.host.destroyed) return 'aborted';
    if (isUsbFnError(err, ErrorCodes.CANCELED) || isUsbFnError(err, ErrorCodes.INVALID_STATE) || isUsbFnError(err, ErrorCodes.DISCONNECTED)) {
      if (issuedEpoch >= this.epoch) this.resumeEpoch = Math.max(this.resumeEpoch, issuedEpoch + 1);
      return 'bus';
    }
    if (isUsbFnError(err, ErrorCodes.STALLED)) {
      this.enterStall(err);
      return 'stall';
    }
    if (isUsbFnError(err, ErrorCodes.DRIVER) && err.win32Error === ERROR_GEN_FAILURE && this.genFailures < GEN_FAILURE_RETRIES * Math.max(this.options.readsOutstanding, this.options.writesInFlight)) {
      this.genFailures++;
      debug('ep 0x%s: ERROR_GEN_FAILURE on a pipe not halted (now): re-issuing (%d)', this.endpointAddress.toString(16), this.genFailures);
      return 'retry';
    }
    return 'fatal';
  }

  /** A transfer succeeded: the pipe works, so the next ERROR_GEN_FAILURE is retried again. */
  protected succeeded(): void {
    this.genFailures = 0;
    this.ownHalt = false; // data moved: whoever cleared it, the halt is gone
  }

  /** The stream fails with `err` (a fatal transfer error, a 'fail' policy, a bad configuration). */
  protected fail(err: Error): void {
    debug('ep 0x%s: failing the stream: %s', this.endpointAddress.toString(16), err.message);
    this.host.destroy(err);
  }

  protected requirePipe(operation: string): PipeInfo {
    if (this.closed) throw new UsbFnError(ErrorCodes.CLOSED, `${operation}: the pipe is closed`, { operation });
    if (!this.pipe || !this.link.configured) throw new UsbFnError(ErrorCodes.INVALID_STATE, `${operation}: the device is not configured`, { operation });
    return this.pipe;
  }

  /** Clears the halt state and resumes (clearStall, the poll, or a new configuration). */
  protected leaveStall(): void {
    this.stopPolling();
    if (!this.stalled) return;
    this.stalled = false;
    debug('ep 0x%s: halt cleared', this.endpointAddress.toString(16));
    this.pump();
  }

  private enterStall(err: UsbFnError): void {
    const quiet = this.stalled || this.ownHalt;
    this.stalled = true;
    if (quiet) return this.schedulePoll(); // our own halt (or already held): no event, wait for a clear
    const event: StallEvent = { direction: this.direction, endpointAddress: this.endpointAddress, error: err };
    debug('ep 0x%s: transfer failed on a halted pipe', this.endpointAddress.toString(16));
    if (this.options.onStall === 'error') return this.fail(err);
    this.host.emit('stall', event);
    this.schedulePoll();
  }

  /**
   * While halted by someone else, polls GET_PIPE_STATE. The timer is ref'd on purpose: a stream
   * waiting for the host to clear a halt is still working; close() clears it.
   */
  private schedulePoll(): void {
    if (this.options.stallPollMs === 0 || this.pollTimer || this.closed) return;
    this.pollTimer = setTimeout(() => {
      this.pollTimer = null;
      if (!this.stalled || !this.pipe || this.closed) return;
      this.driver.getPipeState(this.pipe.pipeId, { signal: this.aborter.signal }).then(
        (halted) => (halted ? this.schedulePoll() : this.leaveStall()),
        () => this.schedulePoll(),
      );
    }, this.options.stallPollMs);
  }

  private stopPolling(): void {
    if (this.pollTimer) clearTimeout(this.pollTimer);
    this.pollTimer = null;
  }

  private adoptConfiguration(): void {
    this.epoch++;
    const pipe = this.link.pipe(this.endpointAddress);
    const problem = !pipe
      ? new UsbFnError(ErrorCodes.INVALID_ARG, `no endpoint 0x${this.endpointAddress.toString(16)} at ${this.link.speed ?? 'this'} speed`)
      : pipe.direction !== this.direction
        ? new UsbFnError(ErrorCodes.INVALID_ARG, `endpoint 0x${this.endpointAddress.toString(16)} is not an ${this.direction.toUpperCase()} pipe`)
        : this.checkPipe(pipe);
    if (problem) {
      this.pipe = null;
      queueMicrotask(() => this.fail(problem));
      return;
    }
    this.pipe = pipe!;
    this.stalled = this.ownHalt = false; // SET_CONFIGURATION clears every halt (USB 2.0 §9.4.5)
    this.stopPolling();
  }

  private onConfigured = (): void => {
    this.adoptConfiguration();
    debug('ep 0x%s: configured (epoch %d, mps %d)', this.endpointAddress.toString(16), this.epoch, this.pipe?.maxPacketSize);
    this.pump();
  };

  private onDeconfigured = (reason: DeconfigureReason): void => {
    this.resumeEpoch = Math.max(this.resumeEpoch, this.epoch + 1);
    debug('ep 0x%s: %s, %d transfers pending', this.endpointAddress.toString(16), reason, this.pending);
    if (reason !== 'detach' || this.options.onBusLoss === 'wait') return;
    if (this.options.onBusLoss === 'destroy') return this.fail(new UsbFnError(ErrorCodes.DISCONNECTED, 'the device was detached'));
    this.endOnDetach();
  };

  private onLinkClosed = (): void => {
    this.host.destroy();
  };
}
