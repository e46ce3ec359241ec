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
import type { UsbFnDriver } from '../driver/driver.js';
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
  /** Told when an answer starts, with its (pre-handled) promise: close() waits for it. */
  onAnswer(req: SetupRequest, answer: Promise<unknown>): void;
  /** Told once when an answer fails (the promise is pre-handled; the channel reports it). */
  onAnswerError(req: SetupRequest, err: unknown): void;
}

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
  private readonly abort = new AbortController();

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
  }

  /** The current state; see SetupRequestState. */
  get state(): SetupRequestState {
    return this._state;
  }

  /** True once an answer was chosen (or the request was superseded): no other answer is possible. */
  get settled(): boolean {
    return this._state !== 'pending' && this._state !== 'deferred';
  }

  /** Aborts when the request is superseded (newer setup packet, reset, detach, close). */
  get signal(): AbortSignal {
    return this.abort.signal;
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
  respond(data: Uint8Array = new Uint8Array(0), options: RespondOptions = {}): Promise<void> {
    if (!(data instanceof Uint8Array)) throw this.invalid('respond() takes a Buffer or Uint8Array');
    if (this.direction !== 'deviceToHost') throw this.invalid('respond() answers a device-to-host request: use receive() or ack()');
    let reply = data;
    if (reply.length > this.wLength) {
      if (!options.truncate) throw this.invalid(`reply of ${reply.length} bytes exceeds wLength ${this.wLength} (pass { truncate: true } to cut it)`);
      reply = reply.subarray(0, this.wLength);
    }
    this.assertOpen('respond');
    if (this.wLength === 0) return this.run('respond', () => this.handshake(this.ctx.noDataHandshake));
    const zlp = reply.length < this.wLength && reply.length % this.ctx.ep0MaxPacketSize === 0;
    return this.run('respond', async (signal) => {
      await this.ctx.driver.transferIn(EP0, reply, { zlp, signal });
      await this.ctx.driver.controlHandshakeOut({ signal });
    });
  }

  /**
   * Data stage host-to-device: TRANSFER_OUT of wLength bytes, then the IN status handshake.
   * Resolves with the bytes received (the host may send fewer). With wLength 0 it is ack() and
   * resolves with an empty Buffer. Throws INVALID_ARG on a device-to-host request.
   */
  receive(): Promise<Buffer> {
    if (this.direction !== 'hostToDevice') throw this.invalid('receive() answers a host-to-device request: use respond()');
    this.assertOpen('receive');
    if (this.wLength === 0) return this.run('receive', async () => (await this.handshake(this.ctx.noDataHandshake), Buffer.alloc(0)));
    return this.run('receive', async (signal) => {
      const buffer = Buffer.alloc(this.wLength);
      const n = await this.ctx.driver.transferOut(EP0, buffer, { signal });
      await this.ctx.driver.controlHandshakeIn({ signal });
      return buffer.subarray(0, n);
    });
  }

  /**
   * Accepts a request without data stage (wLength 0): the status handshake only, in the
   * channel's `noDataHandshake` direction unless `options.handshake` says otherwise. Throws
   * INVALID_ARG when the request has a data stage (use respond() or receive()).
   */
  ack(options: { handshake?: NoDataHandshake } = {}): Promise<void> {
    if (this.wLength !== 0) {
      throw this.invalid(`ack() is for requests without data stage; this one has wLength ${this.wLength}: use ${this.direction === 'deviceToHost' ? 'respond()' : 'receive()'}`);
    }
    const handshake = options.handshake ?? this.ctx.noDataHandshake;
    if (handshake !== 'out' && handshake !== 'in') throw this.invalid(`handshake must be 'out' or 'in', got ${String(handshake)}`);
    this.assertOpen('ack');
    return this.run('ack', () => this.handshake(handshake));
  }

  /** Refuses the request: stalls EP0 (SET_PIPE_STATE(0, TRUE)); the host sees STALL. */
  stall(): Promise<void> {
    this.assertOpen('stall');
    return this.run('stall', (signal) => this.ctx.driver.setPipeState(EP0, true, { signal }), 'stalled');
  }

  /**
   * @internal The channel's end-of-tick check, a newer setup packet, a reset, a detach or close()
   * takes the request away. An answer in flight is cancelled; a later answer rejects CANCELED.
   */
  supersede(reason: string): void {
    if (this._state === 'pending' || this._state === 'deferred') this._state = 'superseded';
    if (!this.abort.signal.aborted) this.abort.abort(canceledError(`setup request (${reason})`));
  }

  /** A readable one-line description, for logs. */
  toString(): string {
    const hex = (n: number, w: number) => '0x' + n.toString(16).padStart(w, '0');
    return `${this.type} ${this.direction} to ${this.recipient} bRequest=${hex(this.bRequest, 2)} wValue=${hex(this.wValue, 4)} wIndex=${hex(this.wIndex, 4)} wLength=${this.wLength}`;
  }

  // ---------------------------------------------------------------- internals

  private handshake(direction: NoDataHandshake): Promise<void> {
    const signal = this.abort.signal;
    return direction === 'in' ? this.ctx.driver.controlHandshakeIn({ signal }) : this.ctx.driver.controlHandshakeOut({ signal });
  }

  /**
   * Runs one answer. A superseded request rejects CANCELED without touching the driver. The
   * promise returned is pre-handled so an un-awaited answer cannot crash the process.
   */
  private run<T>(what: string, body: (signal: AbortSignal) => Promise<T>, done: SetupRequestState = 'answered'): Promise<T> {
    if (this._state === 'superseded') {
      const p = Promise.reject(canceledError(`${what}: the setup request was superseded`, this.abort.signal.reason));
      p.catch(() => undefined);
      return p;
    }
    this._state = 'answering';
    debug('%s: %s', what, this);
    const p = body(this.abort.signal).then(
      (value) => {
        this._state = done;
        return value;
      },
      (err: unknown) => {
        this._state = 'failed';
        debug('%s failed: %s', what, (err as Error)?.message ?? err);
        this.ctx.onAnswerError(this, err);
        throw err;
      },
    );
    p.catch(() => undefined);
    this.ctx.onAnswer(this, p);
    return p;
  }

  private assertOpen(what: string): void {
    if (this._state === 'pending' || this._state === 'deferred' || this._state === 'superseded') return;
    throw new UsbFnError(ErrorCodes.ALREADY_ANSWERED, `${what}(): the setup request was already answered (${this._state})`, { operation: what });
  }

  private invalid(message: string): UsbFnError {
    return new UsbFnError(ErrorCodes.INVALID_ARG, message, { operation: 'SetupRequest' });
  }
}
