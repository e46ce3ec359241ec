/**
 * SetupRequest: one setup packet on EP0, handed to the user as a single-use object (after the
 * Rust usb-gadget crate's CtrlSender / CtrlReceiver). Exactly one answer: respond(), receive(),
 * ack() or stall(). A request nobody answered or deferred by the end of the tick is stalled by
 * the ControlChannel, so the host never hangs.
 *
 * Misuse throws synchronously (a bug in the caller): answering twice (USBFN_ERR_ALREADY_ANSWERED),
 * answering in the wrong direction or with too much data (USBFN_ERR_INVALID_ARG). What the bus
 * decides rejects the returned promise instead (a race, not a bug): answering a request that a
 * newer setup packet, a reset, a detach or close() superseded rejects USBFN_ERR_CANCELED, as does
 * an answer the bus cancels mid-way. The promises are pre-handled: an answer nobody awaits never
 * becomes an unhandled rejection (the ControlChannel reports it as 'answerError').
 */
import createDebug from 'debug';
import { decodeRequestType, type RequestDirection, type RequestRecipient, type RequestType } from '../../native-defs/enums.js';
import type { SetupPacket } from '../../native-defs/codec.js';
import type { OpOptions, UsbFnDriver } from '../driver/driver.js';
import { ErrorCodes, UsbFnError, canceledError } from '../errors.js';

const debug = createDebug('usbfn:control');

/** EP0 is pipe id 0 on GenericUSBFn.sys, at every speed. */
export const EP0 = 0;

/** Which status handshake ends a request without data stage: the spec leaves it open (§4). */
export type NoDataHandshake = 'out' | 'in';

/** Where a request is in its life. 'superseded': a newer setup packet, a reset, a detach or close() took it away. */
export type SetupRequestState = 'pending' | 'deferred' | 'answering' | 'answered' | 'stalled' | 'failed' | 'superseded';

/** Options of SetupRequest.respond(). */
export interface RespondOptions {
  /** Cut a reply longer than wLength to wLength instead of throwing (as a GET_DESCRIPTOR answer does). Default false. */
  truncate?: boolean;
}

/** What a SetupRequest needs from its channel. */
export interface SetupRequestContext {
  driver: UsbFnDriver;
  /** EP0's wMaxPacketSize at the current speed, for the ZLP rule. */
  ep0MaxPacketSize: number;
  noDataHandshake: NoDataHandshake;
  /**
   * The channel's shared AbortController, lent to the current request on first need. Requests
   * answered before they are superseded leave it untouched, so the next request reuses it.
   */
  borrowController(): AbortController;
  /** The borrowed controller is about to abort: the channel stops lending it. */
  retireController(controller: AbortController): void;
  /** Told when an answer starts: close() waits until each started answer has ended. */
  answerStarted(req: SetupRequest): void;
  /**
   * Told once when an answer ends; `failed` with its error (the promise is pre-handled; the
   * channel reports it). Called from the answer's own settlement, so it costs no extra promise.
   */
  answerEnded(req: SetupRequest, failed: boolean, err?: unknown): void;
}

/** Pre-handles a promise: one shared function, not a closure per answer. */
const ignore = (): undefined => undefined;

/** One setup packet, answered exactly once; see the module comment for the contract. */
export class SetupRequest implements SetupPacket {
  readonly bmRequestType: number;
  readonly bRequest: number;
  readonly wValue: number;
  readonly wIndex: number;
  readonly wLength: number;
  /** Bit 7 of bmRequestType: 'deviceToHost' (the host reads, respond()) or 'hostToDevice' (receive() / ack()). */
  readonly direction: RequestDirection;
  /** Bits 5–6 of bmRequestType. */
  readonly type: RequestType;
  /** Bits 0–4 of bmRequestType (reserved values read as 'other'). */
  readonly recipient: RequestRecipient;
  private _state: SetupRequestState = 'pending';
  /**
   * Borrowed from the channel on first need (an answer or the `signal` getter), not created per
   * request: most requests are answered before anything supersedes them, and then nobody can
   * observe an abort, so the controller serves the next request. Aborted (and retired) only when
   * someone may listen; a superseded request reads a fresh, aborted one of its own.
   */
  private controller: AbortController | null = null;
  /** Why the request was superseded (the first reason wins), or null while it is current. */
  private supersededFor: string | null = null;
  /** The `signal` getter was read: someone outside may listen, so a supersede must abort at once. */
  private signalShared = false;
  /** EP0's wMaxPacketSize when the setup packet arrived (a speed change supersedes the request). */
  private readonly ep0MaxPacketSize: number;

  /** @internal Created by the ControlChannel for each setup packet. */
  constructor(setup: SetupPacket, private readonly ctx: SetupRequestContext) {
    this.bmRequestType = setup.bmRequestType;
    this.bRequest = setup.bRequest;
    this.wValue = setup.wValue;
    this.wIndex = setup.wIndex;
    this.wLength = setup.wLength;
    const fields = decodeRequestType(setup.bmRequestType);
    this.direction = fields.direction;
    this.type = fields.type;
    this.recipient = fields.recipient;
    this.ep0MaxPacketSize = ctx.ep0MaxPacketSize;
  }

  /** The current state; see SetupRequestState. */
  get state(): SetupRequestState {
    return this._state;
  }

  /** True once an answer was chosen (or the request was superseded): no other answer is possible. */
  get settled(): boolean {
    return this._state !== 'pending' && this._state !== 'deferred';
  }

  /**
   * Aborts when the request is superseded (newer setup packet, reset, detach, close), with a
   * USBFN_ERR_CANCELED error as its reason; already aborted when read after that.
   */
  get signal(): AbortSignal {
    this.signalShared = true;
    return this.answerSignal();
  }

  /** The interface a class request to an interface addresses: wIndex's low byte. */
  get interfaceNumber(): number {
    return this.wIndex & 0xff;
  }

  /**
   * Keeps the request open past the end of the tick: answer it later (before the host's timeout).
   * Throws ALREADY_ANSWERED if it was already answered. Returns the request.
   */
  defer(): this {
    this.assertOpen('defer');
    this._state = 'deferred';
    return this;
  }

  /**
   * Data stage device-to-host: TRANSFER_IN of `data` (≤ wLength bytes), with a ZLP when the reply
   * is shorter than wLength and a multiple of EP0's max packet size, then the OUT status
   * handshake. Throws INVALID_ARG on a host-to-device request or a reply longer than wLength
   * (unless `truncate`). A deviceToHost request with wLength 0 takes only an empty reply and
   * acknowledges it with the no-data handshake.
   */
  respond(data: Uint8Array = new Uint8Array(0), options?: RespondOptions): Promise<void> {
    if (!(data instanceof Uint8Array)) throw this.invalid('respond() takes a Buffer or Uint8Array');
    if (this.direction !== 'deviceToHost') throw this.invalid('respond() answers a device-to-host request: use receive() or ack()');
    let reply = data;
    if (reply.length > this.wLength) {
      if (!options?.truncate) throw this.invalid(`reply of ${reply.length} bytes exceeds wLength ${this.wLength} (pass { truncate: true } to cut it)`);
      reply = reply.subarray(0, this.wLength);
    }
    this.assertOpen('respond');
    if (this.wLength === 0) return this.run('respond', (ops) => this.handshake(this.ctx.noDataHandshake, ops));
    const zlp = reply.length < this.wLength && reply.length % this.ep0MaxPacketSize === 0;
    const driver = this.ctx.driver;
    // A plain chain, not an async closure: the handshake is issued as many microtasks after the
    // data stage settles as with `await`, so a newer setup dispatched meanwhile still cancels it.
    return this.run('respond', (ops) =>
      driver.transferIn(EP0, reply, zlp ? { zlp, signal: ops.signal } : ops).then(() => driver.controlHandshakeOut(ops)),
    );
  }

  /**
   * Data stage host-to-device: TRANSFER_OUT of wLength bytes, then the IN status handshake.
   * Resolves with the bytes received (the host may send fewer). With wLength 0 it is ack() and
   * resolves with an empty Buffer. Throws INVALID_ARG on a device-to-host request.
   */
  receive(): Promise<Buffer> {
    if (this.direction !== 'hostToDevice') throw this.invalid('receive() answers a host-to-device request: use respond()');
    this.assertOpen('receive');
    if (this.wLength === 0) return this.run('receive', (ops) => this.handshake(this.ctx.noDataHandshake, ops).then(() => Buffer.alloc(0)));
    const driver = this.ctx.driver;
    return this.run('receive', (ops) => {
      const buffer = Buffer.alloc(this.wLength);
      return driver.transferOut(EP0, buffer, ops).then((n) => driver.controlHandshakeIn(ops).then(() => buffer.subarray(0, n)));
    });
  }

  /**
   * Accepts a request without data stage (wLength 0): the status handshake only, in the
   * channel's `noDataHandshake` direction unless `options.handshake` says otherwise. Throws
   * INVALID_ARG when the request has a data stage (use respond() or receive()).
   */
  ack(options?: { handshake?: NoDataHandshake }): Promise<void> {
    if (this.wLength !== 0) {
      throw this.invalid(`ack() is for requests without data stage; this one has wLength ${this.wLength}: use ${this.direction === 'deviceToHost' ? 'respond()' : 'receive()'}`);
    }
    const handshake = options?.handshake ?? this.ctx.noDataHandshake;
    if (handshake !== 'out' && handshake !== 'in') throw this.invalid(`handshake must be 'out' or 'in', got ${String(handshake)}`);
    this.assertOpen('ack');
    return this.run('ack', (ops) => this.handshake(handshake, ops));
  }

  /** Refuses the request: stalls EP0 (SET_PIPE_STATE(0, TRUE)); the host sees STALL. */
  stall(): Promise<void> {
    this.assertOpen('stall');
    return this.run('stall', (ops) => this.ctx.driver.setPipeState(EP0, true, ops), 'stalled');
  }

  /**
   * @internal The channel's end-of-tick check, a newer setup packet, a reset, a detach or close()
   * takes the request away. An answer in flight is cancelled; a later answer rejects CANCELED.
   */
  supersede(reason: string): void {
    if (this._state === 'pending' || this._state === 'deferred') this._state = 'superseded';
    if (this.supersededFor !== null) return;
    this.supersededFor = reason;
    if (!this.controller) return;
    // Abort now only when someone can be listening: an answer in flight (the driver) or a reader
    // of `signal`. An answered request's driver calls have settled, so nobody listens: it hands
    // the borrowed controller back untouched, and its signal, if read later, is a fresh aborted
    // one. No CANCELED error (and its stack) is built per request on the hot path.
    if (this._state === 'answering' || this.signalShared) this.answerSignal();
    else this.controller = null;
  }

  /** A readable one-line description, for logs. */
  toString(): string {
    const hex = (n: number, w: number) => '0x' + n.toString(16).padStart(w, '0');
    return `${this.type} ${this.direction} to ${this.recipient} bRequest=${hex(this.bRequest, 2)} wValue=${hex(this.wValue, 4)} wIndex=${hex(this.wIndex, 4)} wLength=${this.wLength}`;
  }

  // ---------------------------------------------------------------- internals

  /** The request's signal: borrowed while current, its own once superseded; aborted once superseded. */
  private answerSignal(): AbortSignal {
    const controller = (this.controller ??= this.supersededFor === null ? this.ctx.borrowController() : new AbortController());
    const signal = controller.signal;
    if (this.supersededFor !== null && !signal.aborted) {
      this.ctx.retireController(controller);
      controller.abort(canceledError(`setup request (${this.supersededFor})`));
    }
    return signal;
  }

  private handshake(direction: NoDataHandshake, ops: OpOptions): Promise<void> {
    return direction === 'in' ? this.ctx.driver.controlHandshakeIn(ops) : this.ctx.driver.controlHandshakeOut(ops);
  }

  /**
   * Runs one answer. A superseded request rejects CANCELED without touching the driver. The
   * promise returned is pre-handled so an un-awaited answer cannot crash the process.
   */
  private run<T>(what: string, body: (ops: OpOptions) => Promise<T>, done: SetupRequestState = 'answered'): Promise<T> {
    if (this._state === 'superseded') {
      const p = Promise.reject(canceledError(`${what}: the setup request was superseded`, this.answerSignal().reason));
      p.catch(ignore);
      return p;
    }
    this._state = 'answering';
    if (debug.enabled) debug('%s: %s', what, this);
    const p = this.started(body, { signal: this.answerSignal() }).then(
      (value) => {
        this._state = done;
        this.ctx.answerEnded(this, false);
        return value;
      },
      (err: unknown) => {
        this._state = 'failed';
        if (debug.enabled) debug('%s failed: %s', what, (err as Error)?.message ?? err);
        // A failed request stops being current and is never superseded, so its signal never
        // aborts: if someone holds it, the channel must not lend that controller on.
        if (this.signalShared && this.controller) this.ctx.retireController(this.controller);
        this.ctx.answerEnded(this, true, err);
        throw err;
      },
    );
    p.catch(ignore);
    this.ctx.answerStarted(this);
    return p;
  }

  /** Calls `body` with the answer's one options object; a driver that throws instead of rejecting fails the answer the same way. */
  private started<T>(body: (ops: OpOptions) => Promise<T>, ops: OpOptions): Promise<T> {
    try {
      return body(ops);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  private assertOpen(what: string): void {
    if (this._state === 'pending' || this._state === 'deferred' || this._state === 'superseded') return;
    throw new UsbFnError(ErrorCodes.ALREADY_ANSWERED, `${what}(): the setup request was already answered (${this._state})`, { operation: what });
  }

  private invalid(message: string): UsbFnError {
    return new UsbFnError(ErrorCodes.INVALID_ARG, message, { operation: 'SetupRequest' });
  }
}
