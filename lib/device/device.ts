/**
 * UsbFnDevice: the facade users open. It reads the class info, activates the bus, runs the one
 * loop over driver.nextBusEvent(), feeds every event to the BusLink (state, speed, pipes), hands
 * setup packets to the ControlChannel and everything else to the user as typed events, both on
 * the EventEmitter and through `events()`. It creates the bulk pipes and owns them, the control
 * channel and the driver: close() / destroy(err) cancel what is pending, close the pipes (their
 * pooled buffers go back), close the driver, and leave nothing that keeps the process alive.
 */
import { EventEmitter } from 'node:events';
import createDebug from 'debug';
import { BusLink, type DeviceState } from '../bus-link.js';
import { ControlChannel, type ControlChannelOptions } from '../control/control.js';
import {
  EventIterator, emitterArgs, toDeviceEvent, type DeviceEvent, type EventIteratorOptions, type UsbFnDeviceEvents,
} from './device-events.js';
import { DevicePipes } from './device-pipes.js';
import type { BusEvent, BusSpeed, ClassInfo, PipeInfo, UsbFnDriver } from '../driver/driver.js';
import { ErrorCodes, UsbFnError, isUsbFnError } from '../errors.js';
import { checkOpenOptions, platformDriverOpener, type PlatformTarget } from './open-driver.js';
import type { BulkPipe, BulkReader, BulkWriter, DevicePipeOptions, PipeQuery } from './device-pipes.js';

const debug = createDebug('usbfn:device');

/**
 * True when the bus-event wait failed because the device handle under the driver went away
 * (closed elsewhere: the emulator's close(), another driver on the same handle): its pending
 * notifications complete with ERROR_OPERATION_ABORTED (CANCELED), later requests with
 * ERROR_INVALID_HANDLE; a driver closed by someone else says CLOSED. Not a fault of this
 * device: it closes cleanly, with no 'error'.
 */
function handleGone(err: unknown): boolean {
  // ERROR_INVALID_HANDLE maps to CLOSED; DISCONNECTED here is the handle itself going away (a
  // Windows query-remove, FunctionFS unmounted), an expected end rather than a device error.
  return isUsbFnError(err, ErrorCodes.CANCELED) || isUsbFnError(err, ErrorCodes.CLOSED) || isUsbFnError(err, ErrorCodes.DISCONNECTED);
}

/** Drivers an open UsbFnDevice owns: two devices on one driver would split its bus events between them. */
const ownedDrivers = new WeakSet<UsbFnDriver>();

/** Closes what open() was given if it can be closed at all (it may be the very thing that was wrong). */
async function closeQuietly(driver: unknown): Promise<void> {
  const close = (driver as { close?: unknown } | null | undefined)?.close;
  if (typeof close === 'function') await Promise.resolve(close.call(driver)).catch(() => undefined);
}

/** Options of UsbFnDevice.open(): a driver (or a platform target), and the control channel's options. */
export interface UsbFnDeviceOptions extends ControlChannelOptions, PlatformTarget {
  /**
   * The backend: a GenericUsbFnDriver over the emulator (tests, examples) or over the Windows
   * device. Without it, `interfaceGuid` / `path` go to the platform opener (open-driver.ts).
   * The device owns the driver from here on: close() closes it, and so does a failed open().
   */
  driver?: UsbFnDriver;
}

/**
 * The device facade; see the module comment. Open with `await UsbFnDevice.open({ driver })`.
 * Events: UsbFnDeviceEvents (typed). Owns its driver, control channel and the pipes it opened.
 */
export class UsbFnDevice extends EventEmitter<UsbFnDeviceEvents> {
  /** EP0: answer the host's class (and vendor) requests here. */
  readonly control: ControlChannel;
  /** The bus state shared with the pipes and the control channel. */
  readonly link: BusLink;
  /** The pipes per speed as the driver reported them at open(). */
  readonly classInfo: ClassInfo;
  private readonly iterators = new Set<EventIterator>();
  private readonly pipeSet: DevicePipes;
  private readonly stopLoop = new AbortController();
  private loop: Promise<void> = Promise.resolve();
  private closing: Promise<void> | null = null;
  private _closed = false;

  /**
   * Opens a device: class info, then the bus-event loop, then ACTIVATE (so the Attach and Reset
   * it causes are never missed). Rejects with a UsbFnError; the driver is closed on failure.
   * Options are checked first (INVALID_ARG: unknown key, wrong type, malformed GUID, a `driver`
   * that is not a UsbFnDriver); without a driver or a target, off Windows: PLATFORM.
   */
  static async open(options: UsbFnDeviceOptions = {}): Promise<UsbFnDevice> {
    if (options?.driver && ownedDrivers.has(options.driver)) {
      // Not closed here: it belongs to the device that has it open.
      throw new UsbFnError(ErrorCodes.INVALID_STATE, 'UsbFnDevice.open: this driver already belongs to an open UsbFnDevice (one device per driver); use that device, or close() it first', {
        operation: 'UsbFnDevice.open',
      });
    }
    try {
      checkOpenOptions(options);
    } catch (err) {
      await closeQuietly(options?.driver); // a failed open() closes the driver it was given, as below
      throw err;
    }
    const driver = options.driver ?? (await platformDriverOpener()(options));
    ownedDrivers.add(driver);
    let device: UsbFnDevice | undefined;
    try {
      const classInfo = await driver.getClassInfo({ signal: options.signal });
      device = new UsbFnDevice(driver, classInfo, options);
      device.startLoop();
      await driver.activate({ signal: options.signal });
      debug('open: %s, %d pipes at high speed', classInfo.interfaceName, classInfo.high.pipes.length);
      return device;
    } catch (err) {
      if (device) await device.close();
      else await driver.close().catch(() => undefined);
      ownedDrivers.delete(driver);
      throw err;
    }
  }

  /** Use UsbFnDevice.open(). */
  private constructor(readonly driver: UsbFnDriver, classInfo: ClassInfo, options: UsbFnDeviceOptions) {
    super();
    this.classInfo = classInfo;
    this.link = new BusLink(classInfo);
    this.control = new ControlChannel(driver, this.link, options);
    this.pipeSet = new DevicePipes(driver, this.link);
    this.link.on('state', (state: DeviceState, previous: DeviceState) => this.emit('state', state, previous));
  }

  /** 'detached', 'attached', 'default', 'configured' or 'suspended'. */
  get state(): DeviceState {
    return this.link.state;
  }

  /** The link speed since the last reset (null while detached or before the first reset). */
  get speed(): BusSpeed | null {
    return this.link.speed;
  }

  /** True while the host allows data transfers (configured, or suspended while configured). */
  get configured(): boolean {
    return this.link.configured;
  }

  /** True once close() or destroy() began. */
  get closed(): boolean {
    return this._closed;
  }

  /** The data pipes (EP0 excluded) at the current speed (high speed before the first reset). */
  get pipes(): PipeInfo[] {
    return this.pipeSet.list();
  }

  /** The data pipe with this endpoint address, or the first bulk pipe in this direction, at the current speed. */
  findPipe(query: PipeQuery): PipeInfo | undefined {
    return this.pipeSet.find(query);
  }

  /**
   * A BulkPipe Duplex: readable = the OUT endpoint (host to device), writable = the IN endpoint.
   * `out` / `in` default to the first bulk OUT / IN pipe; pass `null` to leave a side out.
   * The device closes it on close(). Throws INVALID_ARG (no such pipe), CLOSED.
   */
  openPipe(options: DevicePipeOptions = {}): BulkPipe {
    this.assertOpen('openPipe');
    return this.pipeSet.openPipe(options);
  }

  /** A Readable over one OUT endpoint (default: the first bulk OUT). */
  openReader(options: Omit<DevicePipeOptions, 'in'> = {}): BulkReader {
    this.assertOpen('openReader');
    return this.pipeSet.openReader(options);
  }

  /** A Writable over one IN endpoint (default: the first bulk IN). */
  openWriter(options: Omit<DevicePipeOptions, 'out'> = {}): BulkWriter {
    this.assertOpen('openWriter');
    return this.pipeSet.openWriter(options);
  }

  /**
   * The bus events as an async iterator (setup packets excluded: answer them on `control`).
   * Buffering is bounded (`limit`, default 1024 events): a consumer that falls that far behind
   * gets USBFN_ERR_OVERFLOW. Ends when the device closes; throws the error of destroy(err).
   */
  events(options: EventIteratorOptions = {}): AsyncIterableIterator<DeviceEvent> {
    const it = new EventIterator(options, (done) => this.iterators.delete(done));
    if (this._closed) it.end();
    else this.iterators.add(it);
    return it;
  }

  /** `for await (const ev of device)`: events() with the defaults. */
  [Symbol.asyncIterator](): AsyncIterableIterator<DeviceEvent> {
    return this.events();
  }

  /**
   * Graceful close: supersedes the open setup request, closes every pipe (pending transfers are
   * cancelled, pooled buffers released), closes the driver, ends event iterators, emits 'close'.
   * Idempotent: every call awaits the same completion.
   */
  close(): Promise<void> {
    this.closing ??= this.shutDown(null);
    return this.closing;
  }

  /**
   * Immediate close with an error: like close(), then 'error' (err) before 'close', and
   * iterators throw `err`. Idempotent; a destroy after close() began only awaits it.
   */
  destroy(err?: Error): Promise<void> {
    this.closing ??= this.shutDown(err ?? null);
    return this.closing;
  }

  // ---------------------------------------------------------------- internals

  private startLoop(): void {
    this.loop = this.runLoop();
  }

  /** The one reader of driver.nextBusEvent(), until close. */
  private async runLoop(): Promise<void> {
    for (;;) {
      let ev: BusEvent;
      try {
        ev = await this.driver.nextBusEvent({ signal: this.stopLoop.signal });
      } catch (err) {
        if (this._closed) return;
        if (handleGone(err)) {
          debug('the driver\'s device handle was closed under the device: closing');
          void this.close();
          return;
        }
        debug('bus event loop failed: %s', (err as Error)?.message ?? err);
        void this.destroy(err instanceof Error ? err : new UsbFnError(ErrorCodes.DRIVER, String(err), { cause: err }));
        return;
      }
      this.dispatchGuarded(ev);
    }
  }

  /** A listener that throws must not stop the loop: its error is rethrown on its own tick, as Node does. */
  private dispatchGuarded(ev: BusEvent): void {
    try {
      this.dispatch(ev);
    } catch (err) {
      process.nextTick(() => {
        throw err;
      });
    }
  }

  /** One event: control first (a reset or detach supersedes EP0), then the link, then users. */
  private dispatch(ev: BusEvent): void {
    debug('bus event %s', ev.type);
    if (ev.type === 'setup') return this.control.dispatch(ev.setup);
    if (ev.type === 'reset' || ev.type === 'detach') this.control.supersede(ev.type);
    this.link.handle(ev);
    const out = toDeviceEvent(ev)!;
    for (const it of this.iterators) it.push(out);
    (this.emit as (event: string, ...args: unknown[]) => boolean)(out.type, ...emitterArgs(out));
  }

  private async shutDown(err: Error | null): Promise<void> {
    this._closed = true;
    debug('closing%s', err ? ` (${err.message})` : '');
    const pipes = this.pipeSet.closeAll();
    const control = this.control.close();
    this.link.close();
    this.stopLoop.abort();
    await Promise.allSettled([pipes, control, this.driver.close(), this.loop]);
    ownedDrivers.delete(this.driver);
    const iterators = [...this.iterators];
    for (const it of iterators) {
      if (err) it.fail(err);
      else it.end();
    }
    if (err) this.reportError(err, iterators.length > 0);
    debug('closed');
    this.emit('close');
  }

  /**
   * 'error' goes to its listeners; with none, and no iterator that received it, it is thrown on
   * its own tick, as an unhandled 'error' event would be: a fatal failure is never silent.
   */
  private reportError(err: Error, iterated: boolean): void {
    if (this.listenerCount('error') > 0) this.emit('error', err);
    else if (!iterated) {
      process.nextTick(() => {
        throw err;
      });
    }
  }

  private assertOpen(operation: string): void {
    if (this._closed) throw new UsbFnError(ErrorCodes.CLOSED, `${operation}: the device is closed`, { operation });
  }
}
