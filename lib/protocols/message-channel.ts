/**
 * A message channel for vendor protocols on a bulk pipe pair: one message = one USB transfer
 * (packet mode underneath; framing in message-frame.ts), request/response matched by id, one-way
 * messages, per-request timeout and AbortSignal, and backpressure both ways:
 * - sending waits while the IN pipe's buffer is full (and at most `maxPending` requests are in
 *   flight; more wait for a slot);
 * - receiving stops issuing reads while `concurrency` request handlers are running, so a slow
 *   handler makes the host see NAKs instead of growing a queue.
 * Detach, a fatal pipe error or close() reject every pending request with a coded error
 * (USBFN_ERR_DISCONNECTED, the pipe's error, USBFN_ERR_CLOSED): nothing hangs. A reset or
 * unconfigure only pauses the pipe (requests keep their timeouts).
 *
 * Who calls it: users, after UsbFnDevice.open(); the host side speaks message-frame.ts.
 * Events: 'message' (payload: Buffer) for one-way messages, 'malformed' (err) for a frame that
 * could not be decoded (dropped), 'close' (err | null) once.
 */
import { EventEmitter } from 'node:events';
import createDebug from 'debug';
import type { UsbFnDevice } from '../device/device.js';
import type { BulkPipe } from '../stream/bulk-pipe.js';
import { ErrorCodes, UsbFnError } from '../errors.js';
import { FRAME_HEADER_SIZE, FrameKind, decodeFrame, encodeFrame, type Frame } from './message-frame.js';
import { PendingRequests, type RequestOptions } from './pending-requests.js';

export type { RequestOptions } from './pending-requests.js';

const debug = createDebug('usbfn:messages');

/** Answers one request: its result is the response payload; a throw or rejection becomes an error response. */
export type RequestHandler = (payload: Buffer, context: { id: number }) => Uint8Array | Promise<Uint8Array>;

/** Options of openMessageChannel(). */
export interface MessageChannelOptions {
  /** Endpoint addresses; default the first bulk OUT / IN pipe. */
  out?: number;
  in?: number;
  /** Largest payload either way. Default 65536. Sets the pipe's read size, so one message is always one read. */
  maxMessageSize?: number;
  /** Requests in flight at once; more wait for a slot. Default 32. */
  maxPending?: number;
  /** Default per-request timeout. Default 5000 ms. */
  timeoutMs?: number;
  /** Incoming requests handled at once; reading pauses while this many run. Default 1 (in order). */
  concurrency?: number;
}

/** See the module comment. Create with openMessageChannel(). */
export class MessageChannel extends EventEmitter {
  private readonly pending: PendingRequests;
  private handler: RequestHandler | null = null;
  private running = 0;
  private closedWith: Error | null = null;
  /** True while the rest of an oversized host transfer is still arriving (dropped). */
  private discarding = false;

  /** @internal */
  constructor(
    private readonly pipe: BulkPipe,
    private readonly options: Required<Omit<MessageChannelOptions, 'out' | 'in'>>,
    /** The pipe's read size: a read that fills it is a transfer longer than any valid message. */
    private readonly readSize: number,
  ) {
    super();
    this.pending = new PendingRequests(options.maxPending);
    pipe.on('data', (chunk: Buffer) => this.onTransfer(chunk));
    pipe.on('error', (err: Error) => this.shutDown(err));
    pipe.on('close', () => this.shutDown(new UsbFnError(ErrorCodes.CLOSED, 'the message channel is closed', { operation: 'MessageChannel' })));
  }

  /** Requests waiting for their response. */
  get pendingRequests(): number {
    return this.pending.size;
  }

  /** True once closed (by close(), detach, or a pipe failure). */
  get closed(): boolean {
    return this.closedWith !== null;
  }

  /**
   * Sends `payload` as a request and resolves with the response's payload. Rejects
   * USBFN_ERR_TIMEOUT, _CANCELED (signal), _REMOTE (the peer answered with an error; its text is
   * the message), _DISCONNECTED (detach), _CLOSED, or _INVALID_ARG (payload too large).
   */
  request(payload: Uint8Array, options: RequestOptions = {}): Promise<Buffer> {
    const tooBig = this.checkSize(payload);
    if (tooBig) return Promise.reject(tooBig);
    const timeoutMs = options.timeoutMs ?? this.options.timeoutMs;
    return this.pending.run({ ...options, timeoutMs }, (id) => this.sendFrame(encodeFrame(FrameKind.REQUEST, id, payload)));
  }

  /** Sends a one-way message; resolves once it is queued on the pipe (waits while the pipe is full). */
  send(payload: Uint8Array): Promise<void> {
    const tooBig = this.checkSize(payload);
    if (tooBig) return Promise.reject(tooBig);
    return this.sendFrame(encodeFrame(FrameKind.MESSAGE, 0, payload));
  }

  /** Sets the handler that answers incoming requests (one at a time unless `concurrency` says more). Without one, requests get an error response. */
  handle(handler: RequestHandler | null): void {
    this.handler = handler;
  }

  /** Closes the pipe; pending requests reject USBFN_ERR_CLOSED. Idempotent. */
  async close(): Promise<void> {
    this.shutDown(new UsbFnError(ErrorCodes.CLOSED, 'the message channel was closed', { operation: 'MessageChannel' }));
    if (!this.pipe.closed) {
      const closed = new Promise((resolve) => this.pipe.once('close', resolve));
      this.pipe.destroy();
      await closed;
    }
  }

  private checkSize(payload: Uint8Array): UsbFnError | null {
    if (this.closedWith) return this.closedWith as UsbFnError;
    if (!(payload instanceof Uint8Array)) return new UsbFnError(ErrorCodes.INVALID_ARG, 'a message payload is a Buffer or Uint8Array');
    if (payload.length > this.options.maxMessageSize) {
      return new UsbFnError(ErrorCodes.INVALID_ARG, `message of ${payload.length} bytes exceeds maxMessageSize ${this.options.maxMessageSize}`);
    }
    return null;
  }

  /** One frame, one transfer; waits for 'drain' first when the pipe's buffer is full. */
  private async sendFrame(frame: Buffer): Promise<void> {
    while (this.pipe.writableNeedDrain && !this.closedWith) {
      await new Promise<void>((resolve) => {
        const done = () => {
          this.pipe.off('drain', done);
          this.pipe.off('close', done);
          resolve();
        };
        this.pipe.on('drain', done);
        this.pipe.on('close', done);
      });
    }
    if (this.closedWith) throw this.closedWith;
    this.pipe.write(frame);
  }

  private onTransfer(chunk: Buffer): void {
    if (this.dropOversized(chunk)) return;
    if (chunk.length === 0) return; // a stray ZLP carries no message
    let frame: Frame;
    try {
      frame = decodeFrame(chunk);
    } catch (err) {
      debug('dropping a malformed frame: %s', (err as Error).message);
      this.emit('malformed', err);
      return;
    }
    if (frame.kind === FrameKind.RESPONSE) this.settle(frame.id, { payload: frame.payload });
    else if (frame.kind === FrameKind.ERROR) {
      this.settle(frame.id, { error: new UsbFnError(ErrorCodes.REMOTE, `request ${frame.id} failed at the far end: ${frame.payload.toString('utf8')}`, { operation: 'request' }) });
    } else if (frame.kind === FrameKind.MESSAGE) this.emit('message', frame.payload);
    else void this.answer(frame);
  }

  /**
   * A read that filled the whole buffer belongs to a host transfer longer than maxMessageSize:
   * it and the rest of that transfer (up to its short packet or ZLP) are dropped, never
   * delivered as a truncated message.
   */
  private dropOversized(chunk: Buffer): boolean {
    if (chunk.length === this.readSize) {
      if (!this.discarding) {
        const err = new UsbFnError(ErrorCodes.MALFORMED, `a host transfer exceeds maxMessageSize ${this.options.maxMessageSize}: dropped`);
        debug(err.message);
        this.emit('malformed', err);
      }
      this.discarding = true;
      return true;
    }
    if (!this.discarding) return false;
    this.discarding = false; // the short read that ends the oversized transfer
    return true;
  }

  private settle(id: number, result: { payload: Buffer } | { error: Error }): void {
    if (!this.pending.settle(id, result)) debug('response %d matches no pending request (timed out or aborted): dropped', id);
  }

  /** Runs the handler for one request; reading pauses while `concurrency` handlers run. */
  private async answer(frame: Frame): Promise<void> {
    this.running++;
    if (this.running >= this.options.concurrency) this.pipe.pause();
    let reply: Buffer;
    try {
      if (!this.handler) throw new Error('no request handler');
      const payload = await this.handler(frame.payload, { id: frame.id });
      if (!(payload instanceof Uint8Array)) throw new Error('the request handler returned no Buffer');
      if (payload.length > this.options.maxMessageSize) throw new Error(`response of ${payload.length} bytes exceeds maxMessageSize`);
      reply = encodeFrame(FrameKind.RESPONSE, frame.id, payload);
    } catch (err) {
      reply = encodeFrame(FrameKind.ERROR, frame.id, Buffer.from(String((err as Error)?.message ?? err)));
    }
    this.running--;
    if (!this.closedWith) {
      await this.sendFrame(reply).catch(() => undefined);
      if (this.running < this.options.concurrency) this.pipe.resume();
    }
  }

  private shutDown(err: Error): void {
    if (this.closedWith) return;
    this.closedWith = err;
    debug('closing: %s', err.message);
    this.pending.failAll(err);
    this.emit('close', err);
  }
}

/**
 * Opens a message channel on a bulk pipe pair of `device` (see the module comment). The pipe
 * is destroyed on detach, so a detach rejects every pending request with USBFN_ERR_DISCONNECTED;
 * open a new channel after the host reconnects. Throws USBFN_ERR_INVALID_ARG for bad options.
 */
export function openMessageChannel(device: UsbFnDevice, options: MessageChannelOptions = {}): MessageChannel {
  const resolved = {
    maxMessageSize: options.maxMessageSize ?? 65536,
    maxPending: options.maxPending ?? 32,
    timeoutMs: options.timeoutMs ?? 5000,
    concurrency: options.concurrency ?? 1,
  };
  for (const [name, value] of Object.entries(resolved)) {
    if (!Number.isInteger(value) || value < 1) throw new UsbFnError(ErrorCodes.INVALID_ARG, `${name} must be a positive integer, got ${value}`);
  }
  // Longer than the largest frame, so every message ends with a short packet or ZLP inside one read.
  const readSize = Math.ceil((resolved.maxMessageSize + FRAME_HEADER_SIZE + 1) / 1024) * 1024;
  const pipe = device.openPipe({ out: options.out, in: options.in, packetMode: true, readSize, onBusLoss: 'destroy' });
  return new MessageChannel(pipe, resolved, readSize);
}
