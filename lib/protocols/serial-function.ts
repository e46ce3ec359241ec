/**
 * The CDC-ACM serial function: `const port = await openSerialFunction(device)` gives one Duplex
 * over the bulk data pipes (readable = what the host's terminal wrote, writable = what it reads)
 * and answers the host serial driver's class requests on EP0:
 * - SET_LINE_CODING → `port.lineCoding`, event 'linecoding' (LineCoding); GET_LINE_CODING is
 *   answered from it (115200 8N1 until the host sets one). A malformed one is stalled.
 * - SET_CONTROL_LINE_STATE → `port.controlLines`, event 'controllines' ({ dtr, rts }).
 * - SEND_BREAK → event 'break' (duration in ms; 0xFFFF = until the next SEND_BREAK 0).
 * - `port.setSerialState({ dcd, dsr, ring, … })` sends SERIAL_STATE on the interrupt IN pipe.
 * Other class requests are left to the device's other handlers ('setup' listeners, or a stall).
 *
 * Lifecycle: the port is a plain byte stream over a BulkPipe the device owns, so a bus reset
 * or detach pauses it and the next 'configured' resumes it (the pipe's defaults). destroy()
 * (or the device's close) releases the pipes and unregisters the EP0 handlers.
 */
import { Duplex } from '../stream/portable-stream.js';
import createDebug from 'debug';
import type { UsbFnDevice } from '../device/device.js';
import type { BulkPipe, BulkWriter } from '../stream/bulk-pipe.js';
import type { DevicePipeOptions } from '../device/device-pipes.js';
import type { SetupRequest } from '../control/control-request.js';
import { ErrorCodes, UsbFnError } from '../errors.js';
import {
  CdcRequest, DEFAULT_LINE_CODING, decodeControlLines, decodeLineCoding, encodeLineCoding, encodeSerialState,
  type ControlLines, type LineCoding, type SerialState,
} from './cdc-acm.js';

const debug = createDebug('usbfn:serial');

/** The class requests this function answers; others go on to other handlers or are stalled. */
const SERIAL_REQUESTS = [CdcRequest.SET_LINE_CODING, CdcRequest.GET_LINE_CODING, CdcRequest.SET_CONTROL_LINE_STATE, CdcRequest.SEND_BREAK];

/**
 * The data pipe's defaults for a serial function. readSize 'packet': a host serial driver sends
 * whole packets without a short one after them whenever a write is a multiple of wMaxPacketSize
 * (Linux cdc_acm does; its URBs are 20 packets), and a larger read completes only when full or
 * at a short packet, so those bytes would wait in the device until the host sends more: a reply
 * that never comes. One-packet reads, as the kernel's own u_serial uses, deliver each packet as
 * it lands. 32 of them (16 KiB at high speed) keep the host's writes flowing between wake-ups.
 */
export const SERIAL_PIPE_DEFAULTS = Object.freeze({ readSize: 'packet', readsOutstanding: 32 } as const);

/** Options of openSerialFunction(). */
export interface SerialFunctionOptions {
  /** Interface number the class requests are addressed to (wIndex). Default: the class info's. */
  interfaceNumber?: number;
  /** Endpoint addresses. Default: first bulk OUT, first bulk IN, first interrupt IN. */
  out?: number;
  in?: number;
  notify?: number;
  /** Line coding reported before the host sets one. Default 115200 8N1. */
  lineCoding?: LineCoding;
  /**
   * Options for the data BulkPipe (byte mode always). Default here: SERIAL_PIPE_DEFAULTS, reads
   * of one packet each, so that every byte the host sent is delivered at once (see there).
   */
  pipe?: Omit<DevicePipeOptions, 'out' | 'in' | 'packetMode'>;
}

/** The serial function's Duplex; see the module comment. Create with openSerialFunction(). */
export class SerialFunction extends Duplex {
  private _lineCoding: LineCoding;
  private _controlLines: ControlLines = { dtr: false, rts: false };
  private readonly unregister: () => void;
  private readonly notifier: BulkWriter | null;

  /** @internal Use openSerialFunction(). */
  constructor(
    private readonly device: UsbFnDevice,
    private readonly data: BulkPipe,
    notify: number | undefined,
    readonly interfaceNumber: number,
    lineCoding: LineCoding,
  ) {
    super({ allowHalfOpen: true });
    this._lineCoding = { ...lineCoding };
    this.notifier = notify === undefined ? null : device.openWriter({ in: notify, packetMode: true, zlp: 'never' });
    this.notifier?.on('error', (err) => debug('notification pipe failed: %s', err.message));
    this.unregister = device.control.handle({ type: 'class', recipient: 'interface', interfaceNumber, request: SERIAL_REQUESTS }, (req) => this.onRequest(req));
    data.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) data.pause();
    });
    data.on('end', () => this.push(null));
    data.on('error', (err: Error) => this.destroy(err));
    // The device closes its pipes on close(): the port goes with them, so nobody waits on it.
    data.once('close', () => this.destroy());
    data.pause();
  }

  /** The line coding the host last set (a copy). */
  get lineCoding(): LineCoding {
    return { ...this._lineCoding };
  }

  /** DTR and RTS as the host last set them (both false until it does). */
  get controlLines(): ControlLines {
    return { ...this._controlLines };
  }

  /**
   * Sends SERIAL_STATE with these lines (omitted = false) on the interrupt IN pipe; resolves once
   * the host has taken it. Rejects USBFN_ERR_NOT_SUPPORTED when the interface has no interrupt IN
   * pipe, USBFN_ERR_CLOSED after destroy; waits while the bus is not configured.
   */
  setSerialState(state: SerialState): Promise<void> {
    const notifier = this.notifier;
    if (!notifier) return Promise.reject(new UsbFnError(ErrorCodes.NOT_SUPPORTED, 'setSerialState: the interface has no interrupt IN endpoint', { operation: 'setSerialState' }));
    if (this.destroyed || notifier.destroyed) return Promise.reject(new UsbFnError(ErrorCodes.CLOSED, 'setSerialState: the port is closed', { operation: 'setSerialState' }));
    return notifier.writeTransfer(encodeSerialState(state, this.interfaceNumber)).then(() => undefined);
  }

  override _read(): void {
    this.data.resume();
  }

  override _write(chunk: Buffer, _encoding: string, callback: (err?: Error | null) => void): void {
    this.data.write(chunk, callback);
  }

  /** Chunks queued meanwhile go out as one transfer: an echo of one-packet reads is not one IN transfer (and ZLP) per packet. */
  override _writev(chunks: Array<{ chunk: Buffer }>, callback: (err?: Error | null) => void): void {
    this.data.write(chunks.length === 1 ? chunks[0].chunk : Buffer.concat(chunks.map((c) => c.chunk)), callback);
  }

  override _final(callback: (err?: Error | null) => void): void {
    this.data.end(callback);
  }

  override _destroy(err: Error | null, callback: (err: Error | null) => void): void {
    this.unregister();
    const open = [this.data, this.notifier].filter((s): s is BulkPipe | BulkWriter => s !== null && !s.closed);
    let left = open.length;
    if (left === 0) return callback(err);
    for (const s of open) {
      s.once('close', () => {
        if (--left === 0) callback(err);
      });
      s.destroy();
    }
  }

  private async onRequest(req: SetupRequest): Promise<Uint8Array | void> {
    switch (req.bRequest) {
      case CdcRequest.SET_LINE_CODING: {
        const lc = decodeLineCoding(await req.receive());
        this._lineCoding = lc;
        debug('line coding %o', lc);
        this.emit('linecoding', { ...lc });
        return;
      }
      case CdcRequest.GET_LINE_CODING:
        return encodeLineCoding(this._lineCoding);
      case CdcRequest.SET_CONTROL_LINE_STATE: {
        // State and event first, then the status stage: once the host's request completes, the port already shows it.
        this._controlLines = decodeControlLines(req.wValue);
        debug('control lines %o', this._controlLines);
        this.emit('controllines', { ...this._controlLines });
        return req.ack();
      }
      case CdcRequest.SEND_BREAK:
        this.emit('break', req.wValue);
        return req.ack();
      default:
        throw new UsbFnError(ErrorCodes.NOT_SUPPORTED, `CDC request 0x${req.bRequest.toString(16)} is not supported`);
    }
  }
}

/**
 * Opens the CDC-ACM function on `device` (see the module comment). Who calls it: the user,
 * after UsbFnDevice.open(); the host need not be connected yet. Throws USBFN_ERR_INVALID_ARG
 * when the interface has no bulk pipe pair, USBFN_ERR_CLOSED on a closed device.
 */
export async function openSerialFunction(device: UsbFnDevice, options: SerialFunctionOptions = {}): Promise<SerialFunction> {
  const interfaceNumber = options.interfaceNumber ?? device.classInfo.high.interfaceNumber;
  const notify = options.notify ?? device.findPipe({ direction: 'in', type: 'interrupt' })?.endpointAddress;
  if (options.out === undefined && !device.findPipe('out')) throw new UsbFnError(ErrorCodes.INVALID_ARG, 'openSerialFunction: the interface has no bulk OUT pipe');
  if (options.in === undefined && !device.findPipe('in')) throw new UsbFnError(ErrorCodes.INVALID_ARG, 'openSerialFunction: the interface has no bulk IN pipe');
  const data = device.openPipe({ ...SERIAL_PIPE_DEFAULTS, ...options.pipe, out: options.out, in: options.in });
  return new SerialFunction(device, data, notify, interfaceNumber, options.lineCoding ?? DEFAULT_LINE_CODING);
}
