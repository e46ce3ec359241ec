/**
 * ControlChannel: EP0 as the user sees it. The device facade hands it every setup packet in bus
 * order; it wraps each in a single-use SetupRequest and offers it first to the handlers
 * registered with handle(), then to 'setup' listeners. Whatever is neither answered nor deferred
 * by the end of the tick (checked on setImmediate) is stalled, so the host never hangs.
 *
 * Only one request lives at a time, as on the bus: a newer setup packet, a reset, a detach or
 * close() supersedes the current one (its answer in flight is cancelled, a later answer rejects
 * USBFN_ERR_CANCELED). A superseded request is never stalled: the stall would hit its successor.
 *
 * Events: 'setup' (req) for requests no handler took; 'answerError' (err, req) when an answer
 * fails for a reason other than cancellation by the bus; 'handlerError' (err, req) when a
 * handler or 'setup' listener throws or rejects, or a handler returns something that cannot
 * answer (the request is then stalled; with no 'handlerError' listener the error is thrown on its
 * own tick, as an unhandled 'error' event would be).
 */
import { EventEmitter } from 'node:events';
import createDebug from 'debug';
import type { SetupPacket } from '../../native-defs/codec.js';
import type { RequestDirection, RequestRecipient, RequestType } from '../../native-defs/enums.js';
import type { BusLink } from '../bus-link.js';
import type { UsbFnDriver } from '../driver/driver.js';
import { ErrorCodes, UsbFnError, isUsbFnError } from '../errors.js';
import { SetupRequest, type NoDataHandshake, type SetupRequestContext } from './control-request.js';
import { checkInteger, checkOneOf, checkOptions, describe, invalidArg } from '../validate.js';

const debug = createDebug('usbfn:control');

/** EP0's max packet size when the class info does not describe EP0 (USB 2.0 full/high speed default). */
const DEFAULT_EP0_MPS = 64;

/** Options of the control channel (passed through UsbFnDevice.open()). */
export interface ControlChannelOptions {
  /**
   * Status handshake that ends a request without data stage (ack(), respond()/receive() with
   * wLength 0). 'out' (default) follows the GenericUsbFnIoctl.h comment; 'in' follows USB 2.0's
   * status-stage direction. Microsoft's documentation leaves it open.
   */
  noDataHandshake?: NoDataHandshake;
}

/** Which requests a handler takes; every given field must match. */
export interface ControlMatch {
  type?: RequestType;
  recipient?: RequestRecipient;
  direction?: RequestDirection;
  /** bRequest, or a list of them. */
  request?: number | readonly number[];
  /** wIndex's low byte (for requests to an interface). */
  interfaceNumber?: number;
}

/**
 * A handler: may answer `req` itself; otherwise its result answers it: a Buffer/Uint8Array is
 * respond() (or stall on a host-to-device request), undefined is ack() when wLength is 0 and a stall
 * otherwise; a throw or rejection stalls.
 */
export type ControlHandler = (req: SetupRequest) => Uint8Array | void | Promise<Uint8Array | void>;

/** The typed EventEmitter map of ControlChannel. */
export interface ControlChannelEvents {
  setup: [req: SetupRequest];
  answerError: [err: unknown, req: SetupRequest];
  handlerError: [err: unknown, req: SetupRequest];
}

interface Registration {
  match: ControlMatch | ((req: SetupRequest) => boolean);
  handler: ControlHandler;
}

/** EP0 as `device.control`; see the module comment for the contract. */
export class ControlChannel extends EventEmitter<ControlChannelEvents> {
  /** The request currently open on EP0, if any. */
  current: SetupRequest | null = null;
  private readonly handlers: Registration[] = [];
  private readonly noDataHandshake: NoDataHandshake;
  /** Answers started and not yet ended: close() waits for them (a counter, not a promise per answer). */
  private answersInFlight = 0;
  /** close()'s wait for the answers in flight, and what resolves it once the last one has ended. */
  private drained: Promise<void> | null = null;
  private answersDrained: (() => void) | null = null;
  /** The end-of-tick check as setImmediate's callback: one closure per channel, not per setup packet. */
  private readonly endOfTickCheck = (req: SetupRequest): void => this.endOfTick(req);
  /** Lent to the current request (see SetupRequestContext.borrowController); replaced once aborted. */
  private sharedController: AbortController | null = null;
  /** One context for every request: nothing is allocated for it per setup packet. */
  private readonly requestContext: SetupRequestContext;
  private closed = false;

  /** @internal Created by UsbFnDevice. */
  constructor(
    private readonly driver: UsbFnDriver,
    private readonly link: BusLink,
    options: ControlChannelOptions = {},
  ) {
    super();
    const h = options.noDataHandshake ?? 'out';
    if (h !== 'out' && h !== 'in') throw new UsbFnError(ErrorCodes.INVALID_ARG, `noDataHandshake must be 'out' or 'in', got ${String(h)}`);
    this.noDataHandshake = h;
    this.requestContext = this.context();
  }

  /** EP0's wMaxPacketSize at the current speed: PipeArr[0] of the class info when it is a control pipe. */
  get ep0MaxPacketSize(): number {
    const ep0 = this.link.pipes[0];
    return ep0 && ep0.type === 'control' && ep0.maxPacketSize > 0 ? ep0.maxPacketSize : DEFAULT_EP0_MPS;
  }

  /**
   * Registers `handler` for the requests `match` selects (fields, or a predicate). Handlers are
   * tried in registration order; the first match owns the request and 'setup' is not emitted
   * for it. The request is deferred for the handler, so it may be async. Returns a function
   * that unregisters it.
   */
  handle(match: ControlMatch | ((req: SetupRequest) => boolean), handler: ControlHandler): () => void {
    if (typeof handler !== 'function') throw new UsbFnError(ErrorCodes.INVALID_ARG, 'handle(match, handler): handler must be a function');
    if (typeof match !== 'function') checkMatch(match);
    const reg: Registration = { match, handler };
    this.handlers.push(reg);
    return () => {
      const i = this.handlers.indexOf(reg);
      if (i >= 0) this.handlers.splice(i, 1);
    };
  }

  /** @internal A setup packet from the bus, in order. */
  dispatch(setup: SetupPacket): void {
    if (this.closed) return;
    this.supersede('a newer setup packet');
    const req = new SetupRequest(setup, this.requestContext);
    this.current = req;
    if (debug.enabled) debug('setup: %s', req);
    const reg = this.handlerFor(req);
    if (reg) this.runHandler(reg.handler, req.defer());
    else this.emitSetup(req);
    // Deferred (a handler owns it) or answered already: the end-of-tick check would find nothing to do.
    if (req.state === 'pending') setImmediate(this.endOfTickCheck, req);
  }

  /** @internal A reset, detach or close takes the open request away. */
  supersede(reason: string): void {
    const req = this.current;
    if (!req) return;
    this.current = null;
    req.supersede(reason);
  }

  /** @internal Supersedes the open request, refuses new ones and waits for answers in flight to settle. */
  async close(): Promise<void> {
    this.closed = true;
    this.supersede('close');
    if (this.answersInFlight > 0) this.drained ??= new Promise<void>((resolve) => (this.answersDrained = resolve));
    await this.drained;
  }

  // ---------------------------------------------------------------- internals

  private context(): SetupRequestContext {
    const channel = this;
    return {
      driver: this.driver,
      get ep0MaxPacketSize() {
        return channel.ep0MaxPacketSize;
      },
      noDataHandshake: this.noDataHandshake,
      borrowController: () => (this.sharedController ??= new AbortController()),
      retireController: (controller) => {
        if (this.sharedController === controller) this.sharedController = null;
      },
      answerStarted: () => void this.answersInFlight++,
      answerEnded: (req, failed, err) => {
        if (failed) this.answerFailed(req, err);
        if (--this.answersInFlight === 0 && this.answersDrained) this.answersDrained();
      },
    };
  }

  /** The first registered handler whose match takes `req` (a loop: no closure per request). */
  private handlerFor(req: SetupRequest): Registration | undefined {
    for (const reg of this.handlers) if (matches(reg.match, req)) return reg;
    return undefined;
  }

  /** A 'setup' listener that throws is treated like a failed handler: the request is stalled. */
  private emitSetup(req: SetupRequest): void {
    try {
      this.emit('setup', req);
    } catch (err) {
      this.handlerFailed(err, req);
    }
  }

  /** Nobody answered or deferred `req` this tick: stall, unless something newer already took EP0. */
  private endOfTick(req: SetupRequest): void {
    if (req.state !== 'pending') return;
    if (this.current !== req || this.closed) return req.supersede('end of tick');
    debug('nobody answered %s: stalling', req);
    void req.stall();
  }

  private answerFailed(req: SetupRequest, err: unknown): void {
    if (this.current === req) this.current = null;
    if (isUsbFnError(err, ErrorCodes.CANCELED) || isUsbFnError(err, ErrorCodes.CLOSED)) return;
    if (this.listenerCount('answerError') > 0) this.emit('answerError', err, req);
  }

  private runHandler(handler: ControlHandler, req: SetupRequest): void {
    let result: ReturnType<ControlHandler>;
    try {
      result = handler(req);
    } catch (err) {
      return this.handlerFailed(err, req);
    }
    Promise.resolve(result).then(
      (value) => this.answerFromResult(req, value),
      (err: unknown) => this.handlerFailed(err, req),
    );
  }

  /** The handler returned without answering: its value answers (see ControlHandler). */
  private answerFromResult(req: SetupRequest, value: unknown): void {
    if (req.settled) return;
    const data = value instanceof Uint8Array;
    if (!data && value !== undefined) return this.handlerFailed(badResult(`returned ${describe(value)}`, req), req);
    if (data && req.direction !== 'deviceToHost') return this.handlerFailed(badResult('returned data for a host-to-device request', req), req);
    try {
      if (data) void req.respond(value);
      else if (req.wLength === 0) void req.ack();
      else {
        debug('handler left %s unanswered: stalling', req);
        void req.stall();
      }
    } catch (err) {
      this.handlerFailed(err, req);
    }
  }

  /**
   * A handler or 'setup' listener failed: the error goes to 'handlerError' (whose listener may
   * still answer), then the request is stalled if still open (the host must not hang). With no 'handlerError' listener it is thrown on its own
   * tick, as an unhandled 'error' event would be: a bug in user code is never swallowed. (To
   * refuse a request on purpose, call req.stall() or return nothing for a request with data.)
   */
  private handlerFailed(err: unknown, req: SetupRequest): void {
    debug('handler failed for %s: %s', req, (err as Error)?.message ?? err);
    const listened = this.listenerCount('handlerError') > 0;
    if (listened) this.emit('handlerError', err, req);
    if (!req.settled) void req.stall();
    if (!listened) {
      process.nextTick(() => {
        throw err;
      });
    }
  }
}

/** INVALID_ARG for a handler whose return value cannot answer `req`. */
function badResult(what: string, req: SetupRequest): UsbFnError {
  return invalidArg(
    'control.handle',
    `the handler for ${req} ${what}: return a Buffer/Uint8Array (device-to-host), undefined, or answer req yourself; the request was stalled`,
  );
}

function checkMatch(match: ControlMatch): void {
  const op = 'control.handle';
  if (match === null || typeof match !== 'object') throw invalidArg(op, `match must be an object of fields or a predicate function, got ${describe(match)}`);
  checkOptions(op, match, ['type', 'recipient', 'direction', 'request', 'interfaceNumber']);
  checkOneOf(op, 'type', match.type, ['standard', 'class', 'vendor', 'reserved']);
  checkOneOf(op, 'recipient', match.recipient, ['device', 'interface', 'endpoint', 'other']);
  checkOneOf(op, 'direction', match.direction, ['deviceToHost', 'hostToDevice']);
  checkInteger(op, 'interfaceNumber', match.interfaceNumber, 0, 255);
  const requests = Array.isArray(match.request) ? match.request : [match.request];
  for (const r of requests) checkInteger(op, 'request (bRequest)', r, 0, 255);
}

function matches(match: Registration['match'], req: SetupRequest): boolean {
  if (typeof match === 'function') return match(req);
  if (match.type !== undefined && match.type !== req.type) return false;
  if (match.recipient !== undefined && match.recipient !== req.recipient) return false;
  if (match.direction !== undefined && match.direction !== req.direction) return false;
  if (match.interfaceNumber !== undefined && match.interfaceNumber !== req.interfaceNumber) return false;
  if (match.request === undefined) return true;
  return typeof match.request === 'number' ? match.request === req.bRequest : match.request.includes(req.bRequest);
}
