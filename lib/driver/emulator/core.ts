/**
 * The state both ends of the emulated cable share: the bus (attached, reset, configured…), the
 * pipes with their packet engines and halt bits, EP0, registered strings, the event queue and
 * the registry of pending IOCTLs. The IOCTL front (EmulatedGenericUsbFn) and the host front
 * (SimulatedHost) are thin views over it.
 */
import { UsbFnEvent, UsbFnBusSpeed } from '../../../native-defs/enums.js';
import type { Notification } from '../../../native-defs/codec.js';
import { IoctlError } from '../genericusbfn/ioctl-device.js';
import { win32ErrorName } from '../../../native-defs/win32-errors.js';
import { UsbFnError, ErrorCodes } from '../../errors.js';
import type { BusSpeed } from '../driver.js';
import { BusEventQueue } from './bus-events.js';
import { CompletionQueue, type IoctlRequest, type IoctlCompletion } from './completions.js';
import { buildClassInfo, buildClassInfoEx, buildDescriptorSets } from './descriptors.js';
import { Control } from './control.js';
import type { AbortReason } from './host-op.js';
import { descriptorSpeed, resolveOptions, type EmulatorOptions, type ResolvedEndpoint, type ResolvedOptions } from './options.js';
import { PacketPipe } from './packet-pipe.js';
import { LinkClock } from './link-model.js';
import createDebug from 'debug';

const debug = createDebug('usbfn:emulator');

/** The device's bus state as the host drives it. ('addressed' is folded into 'default'.) */
export type EmulatedDeviceState = 'detached' | 'attached' | 'default' | 'configured' | 'suspended';

const SPEED_CODE: Record<BusSpeed, number> = { low: UsbFnBusSpeed.Low, full: UsbFnBusSpeed.Full, high: UsbFnBusSpeed.High, super: UsbFnBusSpeed.Super };

/** A data pipe: its configuration, its packet engine and its halt bit. */
export interface DataPipe {
  readonly cfg: ResolvedEndpoint;
  readonly engine: PacketPipe;
  halted: boolean;
  /**
   * The halt failed a device transfer here and the device has not asked GET/SET_PIPE_STATE since:
   * transfers keep failing (31) even once the host has cleared the halt. The device learns of a
   * halt only from that failure, possibly late (through koffi, a completion port harvested after
   * the host's clear): a transfer it sends meanwhile, on an older completion, would reach the host
   * ahead of the failed one's re-send. Its GET_PIPE_STATE says it has taken the failure in.
   */
  haltUnseen: boolean;
}

/** Where core reports settled IOCTLs (the device's 'complete' event). */
export interface CompletionSink {
  listening(): boolean;
  emit(c: IoctlCompletion): void;
}

const stateError = (message: string) => new UsbFnError(ErrorCodes.INVALID_STATE, message, { operation: 'SimulatedHost' });

/** Shared state of one emulated cable; internal (users see EmulatedGenericUsbFn and SimulatedHost). */
export class EmulatorCore {
  readonly options: ResolvedOptions;
  readonly classInfo: Uint8Array;
  readonly classInfoEx: Uint8Array;
  readonly descriptorSets: ReturnType<typeof buildDescriptorSets>;
  readonly completions = new CompletionQueue();
  readonly pending = new Set<IoctlRequest>();
  readonly events: BusEventQueue;
  readonly pipes: DataPipe[];
  readonly control: Control;
  readonly strings = new Map<number, string>();
  /** Current alternate setting per interface number (SetInterface), reset by Reset and SET_CONFIGURATION. */
  readonly alternateSettings = new Map<number, number>();
  activated = false;
  closed = false;
  state: EmulatedDeviceState = 'detached';
  speed: BusSpeed | undefined;
  configurationValue = 0;
  /**
   * True from a bus loss (reset, unconfigure, detach) that cancelled device data transfers of a
   * device listening for bus events, until the device has taken that loss in (BusEventQueue's
   * comment says how that is known). Data transfers issued meanwhile are refused (22): none can
   * reach a host that configured again ahead of the cancelled ones the device re-sends, however
   * late the device harvests its completions.
   */
  get lossFence(): boolean {
    return this.events.fenced;
  }
  private suspendedFrom: EmulatedDeviceState = 'detached';
  private activationWaiters: Array<() => void> = [];

  constructor(options: EmulatorOptions | undefined, private readonly sink: CompletionSink) {
    this.options = resolveOptions(options);
    this.classInfo = buildClassInfo(this.options);
    this.classInfoEx = buildClassInfoEx(this.options);
    this.descriptorSets = buildDescriptorSets(this.options);
    this.events = new BusEventQueue(this.options.eventQueueLimit, (r, e, bytes, n) => {
      if (n.event === UsbFnEvent.SetupPacket) r.onDelivered = () => this.control.delivered(n);
      this.complete(r, e, bytes);
    });
    const { model, turnaroundUs } = this.options.link;
    const defer = (fn: () => void) => this.completions.defer(fn);
    const clock = () => (model === 'timed' ? new LinkClock(turnaroundUs * 1e3, defer) : undefined);
    this.pipes = this.options.endpoints.map((cfg) => ({ cfg, engine: new PacketPipe(cfg.maxPacketSize.high, clock()), halted: false, haltUnseen: false }));
    this.control = new Control(this);
    this.refreshPipes();
  }

  /**
   * Ends an IOCTL with `errno` (0 = success). The caller's buffers are already final; the
   * promise settles on the next completion batch.
   */
  complete(req: IoctlRequest, errno: number, bytesReturned: number): void {
    if (req.settled) return;
    req.settled = true;
    req.detachSignal?.();
    if (req.override) ({ errno, bytesReturned } = req.override);
    if (errno !== 0) debug('%s #%d failed: %s (%d)', req.info.name, req.info.id, win32ErrorName(errno), errno);
    this.completions.defer(() => {
      this.pending.delete(req);
      req.onDelivered?.();
      if (this.sink.listening()) this.sink.emit({ ...req.info, errno, bytesReturned });
      if (errno === 0) req.resolve(bytesReturned);
      else req.reject(new IoctlError(errno, bytesReturned, `${req.info.name} failed with ${win32ErrorName(errno)} (${errno})`));
    });
  }

  /** True while data pipes accept transfers: configured (or suspended while configured). */
  get dataAllowed(): boolean {
    return this.state === 'configured' || (this.state === 'suspended' && this.suspendedFrom === 'configured');
  }

  pipeById(pipeId: number): DataPipe | undefined {
    return this.pipes[pipeId - 1];
  }

  pipeByAddress(address: number): DataPipe | undefined {
    return this.pipes.find((p) => p.cfg.address === address);
  }

  /** Halts or clears a data pipe. Halting fails the host's waiting transfers with STALLED. */
  setHalt(pipe: DataPipe, halted: boolean): void {
    pipe.halted = halted;
    if (halted) pipe.engine.abort('stall', 'host');
    this.refreshPipes();
  }

  /** ACTIVATE_USB_BUS happened: the device is on the bus. */
  markActivated(): void {
    this.activated = true;
    for (const wake of this.activationWaiters.splice(0)) wake();
  }

  /** Calls `wake` once ACTIVATE_USB_BUS has been issued (or the handle closed); returns an unsubscribe. */
  onActivated(wake: () => void): () => void {
    if (this.activated || this.closed) {
      wake();
      return () => {};
    }
    this.activationWaiters.push(wake);
    return () => {
      const i = this.activationWaiters.indexOf(wake);
      if (i >= 0) this.activationWaiters.splice(i, 1);
    };
  }

  // ---------- bus life, driven by the host ----------

  attach(speed: BusSpeed): void {
    this.requireOpen();
    if (!this.activated) throw stateError('attach: the device has not issued ACTIVATE_USB_BUS, so it is not on the bus');
    if (this.state !== 'detached') throw stateError(`attach: already attached (state ${this.state})`);
    this.state = 'attached';
    this.setSpeed(speed);
    this.events.post({ event: UsbFnEvent.Attach, busSpeed: SPEED_CODE[speed] });
  }

  reset(speed: BusSpeed): void {
    this.requireAttached('reset');
    const fenced = this.abortTransfers('reset', true);
    this.state = 'default';
    this.setSpeed(speed);
    this.configurationValue = 0;
    this.alternateSettings.clear();
    for (const p of this.pipes) {
      p.halted = false;
      p.engine.mps = p.cfg.maxPacketSize[descriptorSpeed(speed)];
    }
    this.control.setSpeed(speed);
    this.refreshPipes();
    this.postLoss({ event: UsbFnEvent.Reset, busSpeed: SPEED_CODE[speed] }, fenced);
  }

  configure(value: number): void {
    if (value === 0) return this.unconfigure();
    this.requireAttached('configure');
    if (this.state !== 'default' && this.state !== 'configured') throw stateError(`configure: not possible in state ${this.state}`);
    // SET_CONFIGURATION resets the endpoints' halt bits (USB 2.0 §9.4.5); pending transfers stay.
    this.state = 'configured';
    this.configurationValue = value;
    this.alternateSettings.clear();
    for (const p of this.pipes) p.halted = false;
    this.refreshPipes();
    this.events.post({ event: UsbFnEvent.Configured, configurationValue: value });
  }

  unconfigure(): void {
    this.requireAttached('unconfigure');
    if (this.state !== 'configured') throw stateError(`unconfigure: not configured (state ${this.state})`);
    const fenced = this.abortTransfers('unconfigure', false);
    this.state = 'default';
    this.configurationValue = 0;
    this.refreshPipes();
    this.postLoss({ event: UsbFnEvent.UnConfigured }, fenced);
  }

  setInterface(interfaceNumber: number, alternateSetting: number): void {
    this.requireAttached('setInterface');
    if (this.state !== 'configured') throw stateError(`setInterface: not configured (state ${this.state})`);
    this.alternateSettings.set(interfaceNumber, alternateSetting);
    this.events.post({ event: UsbFnEvent.SetInterface, alternateInterface: { interfaceNumber, alternateInterfaceNumber: alternateSetting } });
  }

  suspend(): void {
    this.requireAttached('suspend');
    if (this.state === 'suspended') throw stateError('suspend: already suspended');
    this.suspendedFrom = this.state;
    this.state = 'suspended';
    this.refreshPipes();
    this.events.post({ event: UsbFnEvent.Suspend });
  }

  resume(): void {
    this.requireAttached('resume');
    if (this.state !== 'suspended') throw stateError(`resume: not suspended (state ${this.state})`);
    this.state = this.suspendedFrom;
    this.refreshPipes();
    this.events.post({ event: UsbFnEvent.Resume });
  }

  /** Cable pulled. Idempotent: detaching a detached device does nothing. */
  detach(): void {
    this.requireOpen();
    if (this.state === 'detached') return;
    const fenced = this.abortTransfers('detach', true);
    this.state = 'detached';
    this.setSpeed(undefined);
    this.configurationValue = 0;
    for (const p of this.pipes) p.halted = false;
    this.refreshPipes();
    this.postLoss({ event: UsbFnEvent.Detach }, fenced);
  }

  /** Posts any notification (PortType, BusTearDown, unknown codes…); no state change. */
  post(n: Notification): void {
    this.requireOpen();
    if (!this.activated) throw stateError(`event ${n.event}: the device has not issued ACTIVATE_USB_BUS`);
    this.events.post(n);
  }

  /** The handle closed: everything pending is cancelled, the host sees a disconnect. */
  async close(): Promise<void> {
    this.closed = true;
    for (const wake of this.activationWaiters.splice(0)) wake();
    this.abortTransfers('close', true);
    for (const req of [...this.pending]) if (!req.settled) this.complete(req, 995, req.cancel?.() ?? 0);
    this.events.clear();
    this.state = 'detached';
    this.speed = undefined;
    await this.completions.drained();
  }

  /** The link speed, and with it the modelled rate of every data pipe's clock. */
  private setSpeed(speed: BusSpeed | undefined): void {
    this.speed = speed;
    for (const p of this.pipes) p.engine.clock?.setSpeed(speed);
  }

  /** Posts a bus-loss event, fencing data transfers when it cancelled some (see lossFence). */
  private postLoss(n: Notification, cancelledTransfers: boolean): void {
    this.events.post(n, cancelledTransfers && this.events.listening ? 'fence' : 'loss');
  }

  /**
   * Cancels pending transfers: device side with 995, host side with the reason's error. Returns
   * true when a device data transfer was cancelled.
   */
  private abortTransfers(reason: AbortReason, includeEp0: boolean): boolean {
    const device = (x: { side: string }) => x.side === 'device';
    const cancelled = this.pipes.some((p) => p.engine.sources.some(device) || p.engine.sinks.some(device));
    for (const p of this.pipes) p.engine.abort(reason);
    if (includeEp0) {
      this.control.abort(reason);
      this.control.halted = false; // a reset or a new attach starts EP0 afresh
    }
    return cancelled;
  }

  private refreshPipes(): void {
    const flowing = this.state === 'configured';
    for (const p of this.pipes) {
      p.engine.enabled = flowing && !p.halted;
      p.engine.pump();
    }
  }

  private requireOpen(): void {
    if (this.closed) throw new UsbFnError(ErrorCodes.DISCONNECTED, 'the emulated device is closed', { operation: 'SimulatedHost' });
  }

  private requireAttached(operation: string): void {
    this.requireOpen();
    if (this.state === 'detached') throw new UsbFnError(ErrorCodes.DISCONNECTED, `${operation}: the device is detached`, { operation });
    if (this.state === 'attached' && operation !== 'reset') throw stateError(`${operation}: the bus has not been reset since attach`);
  }
}
