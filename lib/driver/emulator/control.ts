/**
 * EP0 (pipe id 0): one control transfer at a time, played by the host and answered by the
 * device through TRANSFER_IN / TRANSFER_OUT / HANDSHAKE_IN / HANDSHAKE_OUT on pipe 0.
 *
 * A forwarded setup packet opens a *session*: data stage (when wLength > 0), then status stage.
 * The data stage runs through two packet engines with EP0's max packet size, so it ends as on
 * the wire: device-to-host when the host has wLength bytes or sees a short packet / ZLP;
 * host-to-device when the host has sent its wLength bytes. The status handshake completes once
 * the data stage is over, and with it the host's call. Outside a session, EP0 requests are in
 * the wrong state (ERROR_BAD_COMMAND).
 */
import createDebug from 'debug';
import type { Notification, SetupPacket } from '../../../native-defs/codec.js';
import { ERROR_GEN_FAILURE, ERROR_BAD_COMMAND, ERROR_INVALID_PARAMETER, ERROR_OPERATION_ABORTED } from '../../../native-defs/win32-errors.js';
import type { BusSpeed } from '../driver.js';
import type { IoctlRequest } from './completions.js';
import type { EmulatorCore } from './core.js';
import { HostOp, type AbortReason } from './host-op.js';
import { descriptorSpeed } from './options.js';
import { PacketPipe, Xfer } from './packet-pipe.js';
import { disposeSetup } from './standard-requests.js';
import { UsbFnEvent } from '../../../native-defs/enums.js';

const debug = createDebug('usbfn:emulator');

interface Session {
  readonly setup: SetupPacket;
  readonly deviceToHost: boolean;
  phase: 'data' | 'status';
  readonly op: HostOp<Uint8Array>;
  /** The host's side of the data stage: a sink (device-to-host) or a source (host-to-device). */
  hostXfer?: Xfer;
  /** Bytes the device has queued with TRANSFER_IN so far (never more than wLength). */
  inQueued: number;
  handshake?: IoctlRequest;
  /** The SetupPacket notification of this session. */
  readonly notification: Notification;
  /** Its notification has been delivered to the device: only now can EP0 requests be its answer. */
  delivered: boolean;
}

/** EP0 of one emulated interface: the control transfer in progress and EP0's halt bit. */
export class Control {
  /** Device to host: sources are the device's TRANSFER_IN, the sink is the host's data stage. */
  readonly toHost = new PacketPipe(64);
  /** Host to device: the source is the host's data stage, sinks are the device's TRANSFER_OUT. */
  readonly toDevice = new PacketPipe(64);
  /** EP0's halt bit (SET_PIPE_STATE); a protocol stall, cleared by the next setup packet. */
  halted = false;
  private session: Session | null = null;

  constructor(private readonly core: EmulatorCore) {
    this.setSpeed('high');
  }

  /** True while a forwarded setup packet awaits its data or status stage. */
  get busy(): boolean {
    return this.session !== null;
  }

  setSpeed(speed: BusSpeed): void {
    this.toHost.mps = this.toDevice.mps = this.core.options.ep0MaxPacketSize[descriptorSpeed(speed)];
  }

  /**
   * The host sends `setup` (and, host-to-device, its `data` of exactly wLength bytes; the caller
   * checked). Resolves with the data stage the host received (empty for host-to-device).
   */
  hostTransfer(setup: SetupPacket, data: Uint8Array | undefined, options: { timeoutMs: number; signal?: AbortSignal }): Promise<Uint8Array> {
    this.abort('setup'); // a new SETUP aborts whatever control transfer was in progress
    this.halted = false; // and clears a protocol stall
    const disposition = disposeSetup(this.core, setup);
    const immediate = disposition.kind !== 'forward';
    const op = new HostOp<Uint8Array>(this.core.completions, 'controlTransfer', immediate ? {} : options, () => this.teardown());
    if (disposition.kind === 'answer') op.resolve(disposition.data);
    else if (disposition.kind === 'stall') op.abort('stall');
    else this.open(setup, data, op);
    return op.promise;
  }

  private open(setup: SetupPacket, data: Uint8Array | undefined, op: HostOp<Uint8Array>): void {
    const deviceToHost = (setup.bmRequestType & 0x80) !== 0;
    const notification: Notification = { event: UsbFnEvent.SetupPacket, setupPacket: setup };
    const s: Session = { setup, deviceToHost, phase: setup.wLength > 0 ? 'data' : 'status', op, inQueued: 0, notification, delivered: false };
    this.session = s;
    if (s.phase === 'data') {
      const stageDone = () => this.dataStageDone(s);
      if (deviceToHost) {
        s.hostXfer = new Xfer(new Uint8Array(setup.wLength), false, 'host', stageDone, () => {});
        this.toHost.addSink(s.hostXfer);
      } else {
        s.hostXfer = new Xfer(data!, false, 'host', stageDone, () => {});
        this.toDevice.addSource(s.hostXfer);
      }
    }
    this.core.events.post(notification);
  }

  /** A SetupPacket notification reached the device: its session may now be answered. */
  delivered(n: Notification): void {
    if (this.session?.notification === n) this.session.delivered = true;
  }

  /**
   * The error for an EP0 request that cannot belong to the session in progress: none open (22),
   * or one whose setup packet the device has not been handed yet, so the request answers an
   * older, superseded setup (995: it was cancelled with that one). 0 when it may proceed.
   */
  private staleness(s: Session | null): number {
    if (!s) return ERROR_BAD_COMMAND;
    return s.delivered ? 0 : ERROR_OPERATION_ABORTED;
  }

  /** TRANSFER_IN(_APPEND_ZERO_PKT) on pipe 0. Returns 0 when queued, else the Win32 error. */
  transferIn(req: IoctlRequest, buf: Uint8Array, appendZlp: boolean): number {
    const s = this.session;
    if (this.staleness(s)) return this.staleness(s);
    if (!s || !s.deviceToHost || s.phase !== 'data') return ERROR_BAD_COMMAND;
    if (buf.length > s.setup.wLength - s.inQueued) return ERROR_INVALID_PARAMETER;
    s.inQueued += buf.length;
    const mps = this.toHost.mps;
    const zlp = buf.length === 0 || (appendZlp && buf.length % mps === 0);
    const sent = this.core.options.transferInBytesReturned === 'zero' ? 0 : buf.length;
    const x = new Xfer(buf, zlp, 'device', (_, outcome) => this.core.complete(req, outcome === 'ok' ? 0 : ERROR_GEN_FAILURE, sent),
      () => this.core.complete(req, ERROR_OPERATION_ABORTED, x.done));
    req.cancel = () => {
      if (this.toHost.cancel(x)) s.inQueued -= buf.length - x.done;
      return x.done;
    };
    this.toHost.addSource(x);
    return 0;
  }

  /** TRANSFER_OUT on pipe 0. Returns 0 when queued, else the Win32 error. */
  transferOut(req: IoctlRequest, buf: Uint8Array): number {
    const s = this.session;
    if (this.staleness(s)) return this.staleness(s);
    if (!s || s.deviceToHost || s.phase !== 'data') return ERROR_BAD_COMMAND;
    const x = new Xfer(buf, false, 'device', (_, outcome) => this.core.complete(req, outcome === 'ok' ? 0 : ERROR_GEN_FAILURE, x.done),
      () => this.core.complete(req, ERROR_OPERATION_ABORTED, x.done));
    req.cancel = () => (this.toDevice.cancel(x), x.done);
    this.toDevice.addSink(x);
    return 0;
  }

  /** CONTROL_STATUS_HANDSHAKE_IN / _OUT. Returns 0 when accepted (it may wait for the data stage), else the Win32 error. */
  handshake(req: IoctlRequest, direction: 'in' | 'out'): number {
    const s = this.session;
    if (this.staleness(s)) return this.staleness(s);
    if (!s || s.handshake || !this.handshakeFits(s, direction)) return ERROR_BAD_COMMAND;
    s.handshake = req;
    req.cancel = () => {
      if (s.handshake === req) s.handshake = undefined;
      return 0;
    };
    if (s.phase === 'status') this.finish(s);
    return 0;
  }

  /** SET_PIPE_STATE on pipe 0: TRUE refuses the request in progress (the host sees STALL). */
  setStall(stalled: boolean): void {
    this.halted = stalled;
    if (stalled) this.abort('stall');
  }

  /** Ends the session in progress: device requests complete with 995, the host's call rejects for `reason`. */
  abort(reason: AbortReason): void {
    const s = this.session;
    if (!s) return;
    debug('control transfer aborted (%s)', reason);
    this.teardown();
    s.op.abort(reason);
  }

  /** Drops the session; every EP0 request of the device completes with ERROR_OPERATION_ABORTED. */
  private teardown(): void {
    const s = this.session;
    if (!s) return;
    this.session = null;
    if (s.hostXfer) this.toHost.cancel(s.hostXfer) || this.toDevice.cancel(s.hostXfer);
    this.toHost.abort('setup');
    this.toDevice.abort('setup');
    if (s.handshake) this.core.complete(s.handshake, ERROR_OPERATION_ABORTED, 0);
  }

  private handshakeFits(s: Session, direction: 'in' | 'out'): boolean {
    // The status stage runs opposite to the data stage (USB 2.0 §8.5.3).
    if (s.setup.wLength > 0) return direction === (s.deviceToHost ? 'out' : 'in');
    const rule = this.core.options.noDataStatusStage;
    return rule === 'either' || rule === direction;
  }

  /** The host's data stage ended: settle what the device still has queued on EP0, then the status stage. */
  private dataStageDone(s: Session): void {
    s.phase = 'status';
    for (const x of [...this.toHost.sources]) {
      if (x.done < x.buf.length) {
        // The host went to the status stage: bytes never sent cannot be sent now. The
        // 'overflow' outcome makes the request fail with ERROR_GEN_FAILURE.
        this.toHost.cancel(x);
        x.onEnd(x, 'overflow');
      } else {
        x.zlp = false; // the host stopped at wLength; a trailing ZLP is not needed
        this.toHost.end(x);
      }
    }
    for (const x of [...this.toDevice.sinks]) this.toDevice.end(x);
    if (s.handshake) this.finish(s);
  }

  private finish(s: Session): void {
    this.session = null;
    this.core.complete(s.handshake!, 0, 0);
    const x = s.hostXfer;
    s.op.resolve(s.deviceToHost && x ? x.buf.subarray(0, x.done) : new Uint8Array(0));
  }
}
