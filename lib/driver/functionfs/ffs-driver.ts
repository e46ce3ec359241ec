/**
 * FunctionFsDriver: the UsbFnDriver seam over a mounted FunctionFS instance (Linux).
 *
 * open() writes the descriptors and strings generated from a FunctionDescription to ep0, opens
 * ep1..epN (non-blocking: I/O before the host enables the endpoints fails EAGAIN instead of
 * blocking the loop) and starts the ep0 pump. Data transfers go through Linux AIO (aio.ts),
 * several in flight per endpoint, completions on the event loop; EP0 (pipe 0) goes to Ep0.
 *
 * Seam mapping: activate() binds the gadget to its UDC when a `bind` hook was given (the
 * configfs helper's), deactivate() unbinds it, close() releases it; registerString() is NOT_SUPPORTED (FunctionFS
 * takes its strings with the descriptors: put them in the description); a ZLP is an explicit
 * 0-byte write.
 *
 * Halts: this driver can report only the ones it set, forgotten once the host has visibly
 * cleared them (ffs-halts.ts); a halt the host sets is invisible here: transfers just wait.
 * Bus events: see ep0-events.ts. Pending transfers end USBFN_ERR_CANCELED (errno ESHUTDOWN)
 * when the host resets, unconfigures or disconnects.
 */
import fs from 'node:fs';
import path from 'node:path';
import createDebug from 'debug';
import type {
  BusEvent, BusSpeed, ClassInfo, ClassInfoEx, InterfaceDescriptorSet, OpOptions, TransferHandle, TransferInOptions, TransferSink, UsbFnDriver,
} from '../driver.js';
import { interfaceDescriptors, type FunctionDescription, type ResolvedEndpoint } from '../function-description.js';
import { ErrorCodes, UsbFnError, canceledError } from '../../errors.js';
import { AioQueue } from './aio.js';
import { buildFfsBlobs, type FfsBlobs } from './blobs.js';
import { ffsClassInfo, ffsClassInfoEx } from './class-info.js';
import { Ep0 } from './ep0.js';
import { Errno, fromNodeError } from './errors.js';
import { FfsHalts } from './ffs-halts.js';
import { FfsTransfer } from './ffs-transfer.js';
import { linuxFfi, type LinuxFfi } from './linux-ffi.js';
import { readUdcSpeed } from './udc.js';

const debug = createDebug('usbfn:ffs');

/** Options of FunctionFsDriver.open(). */
export interface FunctionFsDriverOptions {
  /** Where the FunctionFS instance is mounted (holds ep0). */
  mountPoint: string;
  /** The function: class, endpoints, strings, MS OS descriptors. */
  function?: FunctionDescription;
  /** The UDC the gadget binds to, for current_speed; default: the only UDC there is. */
  udc?: string;
  /** Class info's interfaceName. Default: the mount point's base name. */
  name?: string;
  /** Called by activate(): bind the gadget to its UDC (the configfs helper passes one). */
  bind?: () => Promise<void>;
  /** Called by deactivate(): unbind the gadget from its UDC. */
  unbind?: () => Promise<void>;
  /** Called last by close(), after the files are closed: tear down what open() set up. */
  release?: () => Promise<void>;
  /** AIO requests in flight at most, all endpoints together. Default 128. */
  aioDepth?: number;
}

/** The FunctionFS backend; see the module comment. Create with FunctionFsDriver.open(). */
export class FunctionFsDriver implements UsbFnDriver {
  private readonly ep0: Ep0;
  /** The data pipes' halts: GET_PIPE_STATE on FunctionFS (ffs-halts.ts). */
  private readonly halts: FfsHalts;
  private activated = false;
  private closing: Promise<void> | null = null;
  private speed: BusSpeed | null = null;
  /** What each data pipe's transfers are called in errors, by pipe id (made once, not per transfer). */
  private readonly names: string[];

  private constructor(
    ffi: LinuxFfi,
    private readonly options: FunctionFsDriverOptions,
    private readonly blobs: FfsBlobs,
    private readonly ep0Fd: number,
    private readonly epFds: number[],
    /** The data endpoints' AIO queue (FfsTransfer's too). */
    readonly aio: AioQueue,
  ) {
    const speed = () => (this.speed = readUdcSpeed(options.udc) ?? this.speed);
    this.halts = new FfsHalts(ffi, epFds, aio);
    this.ep0 = new Ep0(ffi, ep0Fd, speed, blobs.function.endpoints.map((e) => e.address));
    this.names = ['', ...blobs.function.endpoints.map((e) => `${e.isIn ? 'transferIn' : 'transferOut'} ep${e.pipeId}`)];
    this.ep0.start();
  }

  /**
   * Writes descriptors and strings, opens the endpoint files, starts the ep0 pump. Rejects
   * INVALID_ARG on a bad description (or EINVAL from the kernel: FunctionFS refuses
   * class-specific descriptors other than HID, CCID and DFU), NOT_FOUND when no ep0 is there,
   * INVALID_STATE when the instance is already in use (EBUSY).
   */
  static async open(options: FunctionFsDriverOptions): Promise<FunctionFsDriver> {
    const blobs = buildFfsBlobs(options.function ?? {});
    const ffi = linuxFfi();
    const ep0Path = path.join(options.mountPoint, 'ep0');
    const fds: number[] = [];
    try {
      fds.push(openFile(ep0Path));
      writeBlob(fds[0]!, blobs.descriptors, 'FunctionFS descriptors', ' (FunctionFS accepts class-specific descriptors only for HID, CCID and DFU)');
      writeBlob(fds[0]!, blobs.strings, 'FunctionFS strings', '');
      for (const e of blobs.function.endpoints) fds.push(openFile(path.join(options.mountPoint, `ep${e.pipeId}`)));
      const aio = new AioQueue({ depth: options.aioDepth ?? 128 });
      debug('open %s: %d endpoints', options.mountPoint, blobs.function.endpoints.length);
      return new FunctionFsDriver(ffi, options, blobs, fds[0]!, fds.slice(1), aio);
    } catch (err) {
      for (const fd of fds) fs.closeSync(fd);
      throw err;
    }
  }

  async getClassInfo(): Promise<ClassInfo> {
    this.assertOpen('getClassInfo');
    return ffsClassInfo(this.blobs.function, this.name);
  }

  async getClassInfoEx(): Promise<ClassInfoEx> {
    this.assertOpen('getClassInfoEx');
    return ffsClassInfoEx(this.blobs.function, this.name);
  }

  /** Starts the ep0 pump and binds the gadget (when a bind hook was given). Idempotent. */
  async activate(): Promise<void> {
    this.assertOpen('activate');
    this.ep0.start();
    if (this.activated) return;
    this.activated = true;
    await this.options.bind?.();
  }

  async deactivate(): Promise<void> {
    this.assertOpen('deactivate');
    if (!this.options.unbind) throw new UsbFnError(ErrorCodes.NOT_SUPPORTED, 'deactivate: this FunctionFS instance was not bound by usbfn (no gadget helper)');
    this.activated = false;
    await this.options.unbind();
  }

  nextBusEvent(options: OpOptions = {}): Promise<BusEvent> {
    return this.ep0.next(options).then((event) => {
      if (event.type === 'configured') this.halts.forget(); // ENABLE re-enabled the endpoints: no halt survives it
      return event;
    });
  }

  // transferIn / transferOut are the per-transfer hot path: plain functions returning the AIO
  // promise (an async wrapper costs a promise and three microtask turns per transfer). A halt is
  // cleared by a completion (AioQueue.onMoved), whenever the transfer was issued.
  transferIn(pipeId: number, data: Uint8Array, options: TransferInOptions = {}): Promise<number> {
    try {
      this.assertOpen('transferIn');
      if (options.signal?.aborted) throw canceledError('transferIn', options.signal.reason);
      if (pipeId === 0) return Promise.resolve(this.ep0.writeData(data));
      const ep = this.endpoint(pipeId, true, 'transferIn');
      const done = this.aio.write(this.epFds[pipeId - 1]!, data, this.names[pipeId]!, options.signal);
      if (!this.needsZlp(ep, data, options)) return done;
      return done.then((n) => this.aio.write(this.epFds[pipeId - 1]!, new Uint8Array(0), `${this.names[pipeId]} ZLP`, options.signal).then(() => n));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  transferOut(pipeId: number, buffer: Uint8Array, options: OpOptions = {}): Promise<number> {
    try {
      this.assertOpen('transferOut');
      if (options.signal?.aborted) throw canceledError('transferOut', options.signal.reason);
      if (pipeId === 0) return Promise.resolve(this.ep0.readData(buffer));
      this.endpoint(pipeId, false, 'transferOut');
      return this.aio.read(this.epFds[pipeId - 1]!, buffer, this.names[pipeId]!, options.signal);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** UsbFnDriver.openTransfer: transfers straight into the AIO queue (ffs-transfer.ts). */
  openTransfer(direction: 'in' | 'out', sink: TransferSink): TransferHandle {
    return new FfsTransfer(this, direction, sink);
  }

  /** FfsTransfer's test: the endpoint file when the transfer needs nothing transferIn / transferOut add, else -1. */
  directFd(direction: 'in' | 'out', pipeId: number, buffer: Uint8Array, options: TransferInOptions | undefined): number {
    const ep = this.blobs.function.endpoints[pipeId - 1];
    if (this.closing || !ep || ep.isIn !== (direction === 'in') || !(buffer instanceof Uint8Array) || options?.signal?.aborted) return -1;
    if (direction === 'in' && this.needsZlp(ep, buffer, options)) return -1;
    return this.epFds[pipeId - 1]!;
  }

  /** FfsTransfer's name for the transfers of `pipeId` in errors. */
  transferName(pipeId: number): string {
    return this.names[pipeId]!;
  }

  async getPipeState(pipeId: number): Promise<boolean> {
    this.assertOpen('getPipeState');
    if (pipeId !== 0) this.endpointAt(pipeId, 'getPipeState');
    return this.halts.has(pipeId);
  }

  /**
   * Pipe 0: stalls the pending setup request (false does nothing: EP0 clears itself on the next
   * SETUP). A data pipe: halts it by a 1-byte I/O in the wrong direction (FunctionFS answers
   * EBADMSG after setting the halt), or clears it with FUNCTIONFS_CLEAR_HALT.
   */
  async setPipeState(pipeId: number, stalled: boolean): Promise<void> {
    this.assertOpen('setPipeState');
    if (pipeId === 0) return stalled ? this.ep0.stall() : undefined;
    const ep = this.endpointAt(pipeId, 'setPipeState');
    if (stalled) this.halts.halt(pipeId, ep.isIn);
    else this.halts.clear(pipeId);
  }

  async controlHandshakeIn(): Promise<void> {
    this.assertOpen('controlHandshakeIn');
    this.ep0.handshake();
  }

  async controlHandshakeOut(): Promise<void> {
    this.assertOpen('controlHandshakeOut');
    this.ep0.handshake();
  }

  async registerString(_index?: number, _text?: string): Promise<void> {
    this.assertOpen('registerString');
    throw new UsbFnError(ErrorCodes.NOT_SUPPORTED, 'FunctionFS takes its strings with the descriptors: set interfaceString in the function description', { operation: 'registerString' });
  }

  async getInterfaceDescriptorSet(interfaceNumber: number, speed: BusSpeed): Promise<InterfaceDescriptorSet> {
    this.assertOpen('getInterfaceDescriptorSet');
    if (interfaceNumber !== 0) throw new UsbFnError(ErrorCodes.INVALID_ARG, `a FunctionFS function has interface 0 only, got ${interfaceNumber}`);
    const placement = { interfaceNumber: 0, iInterface: this.blobs.function.interfaceString === null ? 0 : 1 };
    return { interfaceNumber, speed, descriptors: interfaceDescriptors(this.blobs.function, speed === 'low' ? 'full' : speed, placement) };
  }

  /** Cancels every transfer and waits for it, stops the pump, closes the files, unbinds. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.ep0.close();
      await this.aio.close();
      for (const fd of this.epFds) fs.closeSync(fd);
      fs.closeSync(this.ep0Fd);
      await this.options.release?.().catch((err: unknown) => debug('release on close failed: %s', (err as Error).message));
    })();
    return this.closing;
  }

  // ---------------------------------------------------------------- internals

  private get name(): string {
    return this.options.name ?? path.basename(this.options.mountPoint);
  }

  /** Whether a write of `data` must be followed by a zero-length packet (asked for, and a whole number of packets). */
  private needsZlp(ep: ResolvedEndpoint, data: Uint8Array, options: TransferInOptions | undefined): boolean {
    return !!options?.zlp && data.length > 0 && data.length % this.maxPacketSize(ep) === 0;
  }

  private maxPacketSize(ep: ResolvedEndpoint): number {
    const speed = this.speed === null || this.speed === 'low' ? 'high' : this.speed;
    return ep.maxPacketSize[speed];
  }

  private endpointAt(pipeId: number, what: string): ResolvedEndpoint {
    const ep = this.blobs.function.endpoints[pipeId - 1];
    if (!Number.isInteger(pipeId) || !ep) throw new UsbFnError(ErrorCodes.INVALID_ARG, `${what}: no pipe ${pipeId}`, { operation: what });
    return ep;
  }

  private endpoint(pipeId: number, isIn: boolean, what: string): ResolvedEndpoint {
    const ep = this.endpointAt(pipeId, what);
    if (ep.isIn !== isIn) throw new UsbFnError(ErrorCodes.INVALID_ARG, `${what}: pipe ${pipeId} is an ${ep.isIn ? 'IN' : 'OUT'} endpoint`, { operation: what });
    return ep;
  }

  private assertOpen(what: string): void {
    if (this.closing) throw new UsbFnError(ErrorCodes.CLOSED, `${what}: the FunctionFS driver is closed`, { operation: what });
  }
}

function openFile(file: string): number {
  try {
    return fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_NONBLOCK);
  } catch (err) {
    throw fromNodeError(err, `open ${file}`);
  }
}

function writeBlob(fd: number, blob: Uint8Array, what: string, hint: string): void {
  try {
    fs.writeSync(fd, blob);
  } catch (err) {
    const e = fromNodeError(err, what);
    if (e.errno === Errno.EINVAL) e.message += hint;
    throw e;
  }
}
