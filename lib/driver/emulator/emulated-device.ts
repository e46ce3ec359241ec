/**
 * EmulatedGenericUsbFn: an IoctlDevice that *is* GenericUSBFn.sys, in process. It takes the same
 * IOCTL codes and the same bytes the Win32 device would hand to the kernel, writes its answers
 * into the caller's buffers, and completes asynchronously, so GenericUsbFnDriver runs unchanged
 * on top of it. The far end of the cable is `device.host` (SimulatedHost).
 *
 * Test hooks: `pending()`, `counts`, the 'ioctl' / 'complete' events, `injectFault()`.
 */
import { EventEmitter } from 'node:events';
import createDebug from 'debug';
import { decodePipeId } from '../../../native-defs/codec.js';
import { ERROR_GEN_FAILURE, ERROR_INVALID_HANDLE, ERROR_INVALID_PARAMETER, ERROR_OPERATION_ABORTED } from '../../../native-defs/win32-errors.js';
import type { IoctlDevice } from '../genericusbfn/ioctl-device.js';
import type { BusSpeed } from '../driver.js';
import { IoctlRequest, shortIoctlName, type IoctlCompletion, type IoctlInfo } from './completions.js';
import { EmulatorCore, type EmulatedDeviceState } from './core.js';
import { SimulatedHost } from './host.js';
import { HANDLERS, PIPE_ID_CODES } from './ioctl-handlers.js';
import type { EmulatorOptions, ResolvedOptions } from './options.js';
import type { LinkStats } from './link-model.js';
import { invalidArg } from '../../validate.js';

const debug = createDebug('usbfn:emulator');

/** A failure (or a lie) to inject into matching IOCTLs. */
export interface FaultSpec {
  /** The IOCTL code to fail. */
  code: number;
  /** Only requests on this pipe id (for codes that take one). */
  pipeId?: number;
  /** The Win32 error to complete with; 0 = succeed (with `bytesReturned`). Default ERROR_GEN_FAILURE (31). */
  errno?: number;
  /** lpBytesReturned to report, even one larger than the buffer (malformed driver data). Default 0. */
  bytesReturned?: number;
  /** How many matching requests to affect. Default 1; Infinity for all. */
  times?: number;
  /**
   * 'issue' (default): the request completes with the fault at once, touching nothing.
   * 'completion': the request runs normally (data moves), then completes with the fault's result.
   */
  at?: 'issue' | 'completion';
}

type ActiveFault = Omit<Required<FaultSpec>, 'pipeId'> & { pipeId?: number };

/** Which pending IOCTLs `pending()` counts. */
export interface PendingFilter {
  code?: number;
  pipeId?: number;
}

/** Events of EmulatedGenericUsbFn. */
export interface EmulatedGenericUsbFnEvents {
  /** An IOCTL was issued (before it is handled). */
  ioctl: [IoctlInfo];
  /** An IOCTL settled (errno 0 = success). */
  complete: [IoctlCompletion];
}

/**
 * GenericUSBFn.sys as an IoctlDevice. `new EmulatedGenericUsbFn(options)` is a device handle
 * already open; the driver issues IOCTLs on it, tests drive the bus through `host`.
 */
export class EmulatedGenericUsbFn extends EventEmitter<EmulatedGenericUsbFnEvents> implements IoctlDevice {
  /** The host side of the cable. */
  readonly host: SimulatedHost;
  private readonly core: EmulatorCore;
  private readonly issued: Record<string, number> = {};
  private faults: ActiveFault[] = [];
  private nextId = 0;
  private closing?: Promise<void>;
  /** Cancels the pending requests whose signal aborts; see AbortWatch. */
  private readonly abortWatch: AbortWatch;

  /** @throws UsbFnError USBFN_ERR_INVALID_ARG for an impossible configuration. */
  constructor(options?: EmulatorOptions) {
    super();
    this.core = new EmulatorCore(options, {
      listening: () => this.listenerCount('complete') > 0,
      emit: (c) => this.emit('complete', c),
    });
    this.host = new SimulatedHost(this.core);
    this.abortWatch = new AbortWatch(this.core);
  }

  /** IoctlDevice.ioctl: see its contract. Never throws; failures reject with IoctlError. */
  ioctl(code: number, input: Uint8Array | null, output: Uint8Array | null, signal?: AbortSignal): Promise<number> {
    code >>>= 0;
    const info = this.describe(code, input, output);
    let req!: IoctlRequest;
    const promise = new Promise<number>((resolve, reject) => {
      req = new IoctlRequest(info, input, output, resolve, reject);
    });
    this.core.pending.add(req);
    this.issued[info.name] = (this.issued[info.name] ?? 0) + 1;
    if (this.listenerCount('ioctl') > 0) this.emit('ioctl', info);
    this.start(req, signal);
    return promise;
  }

  private start(req: IoctlRequest, signal: AbortSignal | undefined): void {
    const core = this.core;
    if (core.closed) return core.complete(req, ERROR_INVALID_HANDLE, 0);
    if (signal?.aborted) return core.complete(req, ERROR_OPERATION_ABORTED, 0);
    const fault = this.takeFault(req.info);
    if (fault?.at === 'issue') return core.complete(req, fault.errno, fault.bytesReturned);
    if (fault) req.override = { errno: fault.errno, bytesReturned: fault.bytesReturned };
    if (signal) this.abortWatch.attach(req, signal);
    const handler = HANDLERS.get(req.info.code);
    if (!handler) {
      debug('unknown IOCTL 0x%s', req.info.code.toString(16));
      return core.complete(req, ERROR_INVALID_PARAMETER, 0);
    }
    handler(core, req);
  }

  private describe(code: number, input: Uint8Array | null, output: Uint8Array | null): IoctlInfo {
    const info: IoctlInfo = { id: ++this.nextId, code, name: shortIoctlName(code), length: output?.length ?? 0, inputLength: input?.length ?? 0 };
    if (PIPE_ID_CODES.has(code) && input && input.length >= 4) info.pipeId = decodePipeId(input);
    return info;
  }

  /** IoctlDevice.close: cancels everything pending (995), then every call fails with ERROR_INVALID_HANDLE. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.core.close();
    return this.closing;
  }

  /**
   * Makes the next `times` matching IOCTLs fail with `errno` (default ERROR_GEN_FAILURE), or
   * succeed claiming `bytesReturned` when errno is 0. Faults are matched in the order added.
   */
  injectFault(fault: FaultSpec): void {
    this.faults.push({ errno: ERROR_GEN_FAILURE, bytesReturned: 0, times: 1, at: 'issue', ...fault, code: fault.code >>> 0 });
  }

  /** Forgets every injected fault not yet used. */
  clearFaults(): void {
    this.faults = [];
  }

  private takeFault(info: IoctlInfo): ActiveFault | undefined {
    const fault = this.faults.find((f) => f.code === info.code && (f.pipeId === undefined || f.pipeId === info.pipeId));
    if (fault && --fault.times <= 0) this.faults.splice(this.faults.indexOf(fault), 1);
    return fault;
  }

  /** How many IOCTLs are pending (issued, not yet completed), optionally only of one code and/or pipe id. */
  pending(filter: PendingFilter = {}): number {
    let n = 0;
    for (const req of this.core.pending) {
      if (req.settled) continue;
      if (filter.code !== undefined && req.info.code !== filter.code >>> 0) continue;
      if (filter.pipeId !== undefined && req.info.pipeId !== filter.pipeId) continue;
      n++;
    }
    return n;
  }

  /** IOCTLs issued so far, by short name ('TRANSFER_IN', 'BUS_EVENT_NOTIFICATION'…). */
  get counts(): Readonly<Record<string, number>> {
    return { ...this.issued };
  }

  /** True once ACTIVATE_USB_BUS was issued. */
  get activated(): boolean {
    return this.core.activated;
  }

  /** True once close() was called. */
  get closed(): boolean {
    return this.core.closed;
  }

  /** The bus state: 'detached' | 'attached' | 'default' | 'configured' | 'suspended'. */
  get state(): EmulatedDeviceState {
    return this.core.state;
  }

  /** The link speed since the last attach/reset; undefined while detached. */
  get speed(): BusSpeed | undefined {
    return this.core.speed;
  }

  /** bConfigurationValue while configured, else 0. */
  get configurationValue(): number {
    return this.core.configurationValue;
  }

  /** Bus events waiting for a BUS_EVENT_NOTIFICATION request. */
  get queuedEvents(): number {
    return this.core.events.queuedCount;
  }

  /** Bus events dropped (oldest first) because more than `eventQueueLimit` were waiting. */
  get droppedEvents(): number {
    return this.core.events.dropped;
  }

  /** Strings registered with REGISTER_USB_STRING, by index. */
  get strings(): ReadonlyMap<number, string> {
    return this.core.strings;
  }

  /**
   * The modelled bus time of a data endpoint (options.link 'timed', see link-model.ts): busy and
   * idle µs, bytes and packets since the device was created; subtract two snapshots for a window.
   * Undefined with link 'instant'. Throws USBFN_ERR_INVALID_ARG for an endpoint the interface lacks.
   */
  linkStats(endpointAddress: number): LinkStats | undefined {
    const pipe = this.core.pipeByAddress(endpointAddress);
    if (!pipe) throw invalidArg('linkStats', `the interface has no data endpoint 0x${Number(endpointAddress).toString(16)}`);
    return pipe.engine.clock?.stats();
  }

  /** The configuration in effect, every default filled in. */
  get options(): Readonly<ResolvedOptions> {
    return this.core.options;
  }
}

/**
 * One 'abort' listener per AbortSignal in use, shared by every pending request that carries it (a
 * pipe passes one signal with all its transfers), instead of one added and removed per request;
 * it is removed once no pending request carries the signal, so no signal keeps the device alive.
 */
class AbortWatch {
  /** Per signal being listened to: its listener and how many pending requests carry it. */
  private readonly watched = new Map<AbortSignal, { users: number; onAbort: () => void }>();

  constructor(private readonly core: EmulatorCore) {}

  attach(req: IoctlRequest, signal: AbortSignal): void {
    let use = this.watched.get(signal);
    if (use === undefined) {
      // Its own listener (not one reading event.target): a signal-like object may dispatch a bare Event.
      use = { users: 0, onAbort: () => this.cancelAll(signal) };
      signal.addEventListener('abort', use.onAbort);
      this.watched.set(signal, use);
    }
    use.users++;
    req.signal = signal;
    req.detachSignal = this.detach;
  }

  // Shared by all requests: called as `req.detachSignal()`, so `this` is the request.
  private readonly detach = ((watch: AbortWatch) =>
    function detach(this: IoctlRequest): void {
      watch.release(this.signal!);
    })(this);

  private release(signal: AbortSignal): void {
    const use = this.watched.get(signal);
    if (!use || --use.users > 0) return;
    this.watched.delete(signal);
    signal.removeEventListener('abort', use.onAbort);
  }

  /** Cancels, in issue order, every pending request that carries the aborted signal. */
  private cancelAll(signal: AbortSignal): void {
    for (const req of this.core.pending) {
      if (req.signal === signal && !req.settled) this.core.complete(req, ERROR_OPERATION_ABORTED, req.cancel?.() ?? 0);
    }
  }
}
