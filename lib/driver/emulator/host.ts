/**
 * SimulatedHost: the far end of the emulated cable. It drives the bus (attach, reset,
 * configure, suspend, detach…), plays control transfers on EP0 and moves bulk/interrupt data in
 * packets, as a USB host controller would. Reach it as `device.host`.
 *
 * Host calls fail with UsbFnError: USBFN_ERR_DISCONNECTED while detached (or once the device is
 * closed), USBFN_ERR_INVALID_ARG for an endpoint the interface does not have (or of the wrong
 * direction), USBFN_ERR_INVALID_STATE when the bus state forbids the call (not configured,
 * suspended), USBFN_ERR_STALLED on a halted endpoint.
 */
import type { SetupPacket } from '../../../native-defs/codec.js';
import { UsbFnEvent } from '../../../native-defs/enums.js';
import { ErrorCodes, UsbFnError, canceledError } from '../../errors.js';
import type { BusSpeed } from '../driver.js';
import type { EmulatedDeviceState, EmulatorCore, DataPipe } from './core.js';
import { HostOp, refuse } from './host-op.js';
import { Xfer } from './packet-pipe.js';
import { checkEnumerateOptions, checkHostOpOptions, checkSpeed } from './host-options.js';

/** Options of SimulatedHost.enumerate(). */
export interface EnumerateOptions {
  /** Link speed of the Attach and Reset events. Default 'high'. */
  speed?: BusSpeed;
  /** bConfigurationValue of the Configured event. Default 1. */
  configuration?: number;
  /** How long to wait for ACTIVATE_USB_BUS (and, with waitForDevice, for the device to read Configured). Default: the emulator's controlTimeoutMs. */
  timeoutMs?: number;
  /**
   * true (default): resolve once the device has read the Configured event and acted on it.
   * false: resolve as soon as Attach, Reset and Configured are queued, for code that issues
   * BUS_EVENT_NOTIFICATION itself after enumerate() returns.
   */
  waitForDevice?: boolean;
}

/** Options of SimulatedHost.controlTransfer(). */
export interface ControlTransferOptions {
  /** Default: the emulator's controlTimeoutMs (5000). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Options of SimulatedHost.bulkOut(). */
export interface BulkOutOptions {
  /** Follow the data with a ZLP when its length is a non-zero multiple of wMaxPacketSize. */
  zlp?: boolean;
  signal?: AbortSignal;
  /** Give up (USBFN_ERR_TIMEOUT) after this long; default: wait as long as the device NAKs. */
  timeoutMs?: number;
}

/** Options of SimulatedHost.bulkIn(). */
export interface BulkInOptions {
  signal?: AbortSignal;
  /** Give up (USBFN_ERR_TIMEOUT) after this long; default: wait as long as the device NAKs. */
  timeoutMs?: number;
  /** Read into this buffer (at least `length` bytes) instead of a new one: for benchmarks. */
  into?: Uint8Array;
}

const error = (code: (typeof ErrorCodes)[keyof typeof ErrorCodes], operation: string, message: string) =>
  new UsbFnError(code, `${operation}: ${message}`, { operation });

/** The USB host at the far end of the emulated cable (see the file comment for its errors). */
export class SimulatedHost {
  /** @internal Created by EmulatedGenericUsbFn. */
  constructor(private readonly core: EmulatorCore) {}

  /** The link speed since the last attach/reset; undefined while detached. */
  get speed(): BusSpeed | undefined {
    return this.core.speed;
  }

  /** The device's bus state as this host sees it. */
  get state(): EmulatedDeviceState {
    return this.core.state;
  }

  /**
   * Waits until the device has sent ACTIVATE_USB_BUS, then attach (if detached) + reset + configure.
   * By default (`waitForDevice: true`) it resolves once the device has *read* the Configured event
   * and had a turn to act on it, so right after `await host.enumerate()` a UsbFnDevice on this
   * emulator says 'configured'. Rejects INVALID_ARG (bad options), TIMEOUT (no ACTIVATE, or the
   * Configured event not read, within `timeoutMs`), DISCONNECTED (the device closed meanwhile).
   */
  enumerate(options: EnumerateOptions = {}): Promise<void> {
    try {
      checkEnumerateOptions(options);
    } catch (err) {
      return Promise.reject(err);
    }
    const { speed = 'high', configuration = 1, timeoutMs = this.core.options.controlTimeoutMs, waitForDevice = true } = options;
    return new Promise<void>((resolve, reject) => {
      let phase = 'did not issue ACTIVATE_USB_BUS';
      let unsubscribe = () => {};
      const timer = setTimeout(() => {
        unsubscribe();
        const hint = waitForDevice ? " (a test that reads notifications itself after enumerate() passes { waitForDevice: false })" : '';
        reject(error(ErrorCodes.TIMEOUT, 'enumerate', `the device ${phase} within ${timeoutMs} ms${hint}`));
      }, timeoutMs);
      const settle = (err?: unknown) => {
        clearTimeout(timer);
        if (err) reject(err);
        else resolve();
      };
      unsubscribe = this.core.onActivated(() => {
        try {
          if (this.core.closed) throw error(ErrorCodes.DISCONNECTED, 'enumerate', 'the device was closed');
          if (this.core.state === 'detached') this.core.attach(speed);
          this.core.reset(speed);
          this.core.configure(configuration);
        } catch (e) {
          return settle(e);
        }
        if (!waitForDevice) return settle();
        phase = 'did not read the Configured event';
        unsubscribe = this.core.events.whenGone(this.core.events.posted, () => this.afterDeviceTurn(settle));
      });
    });
  }

  /** Runs `settle` once the completions now queued (the Configured notification) and the device's reaction to them have run. */
  private afterDeviceTurn(settle: (err?: unknown) => void): void {
    // The notification's completion is deferred to the next batch; the device reacts in that
    // batch's microtasks; a settle deferred from within that batch runs on the batch after it.
    this.core.completions.defer(() =>
      this.core.completions.defer(() => settle(this.core.closed ? error(ErrorCodes.DISCONNECTED, 'enumerate', 'the device was closed') : undefined)),
    );
  }

  /** VBUS on: Attach event. Throws USBFN_ERR_INVALID_STATE before ACTIVATE or when already attached, INVALID_ARG for an unknown speed. */
  attach(speed: BusSpeed = 'high'): void {
    checkSpeed('attach', speed);
    this.core.attach(speed);
  }

  /** Bus reset: cancels every pending transfer (EP0 too), clears halts, unconfigures; Reset event. */
  reset(speed: BusSpeed = this.core.speed ?? 'high'): void {
    checkSpeed('reset', speed);
    this.core.reset(speed);
  }

  /** SET_CONFIGURATION(value): Configured event (value 0 = unconfigure). Clears halts. */
  configure(value = 1): void {
    this.core.configure(value);
  }

  /** SET_CONFIGURATION(0): cancels data transfers; UnConfigured event. */
  unconfigure(): void {
    this.core.unconfigure();
  }

  /** SET_INTERFACE: SetInterface event (the pipe set stays the same: alternate settings are not modelled). */
  setInterface(interfaceNumber: number, alternateSetting: number): void {
    this.core.setInterface(interfaceNumber, alternateSetting);
  }

  /** Suspend event; no packets move until resume(); host calls meanwhile reject USBFN_ERR_INVALID_STATE. */
  suspend(): void {
    this.core.suspend();
  }

  /** Resume event; pending transfers continue. */
  resume(): void {
    this.core.resume();
  }

  /** Cable pulled: cancels every transfer (host side: USBFN_ERR_DISCONNECTED); Detach event. Idempotent. */
  detach(): void {
    this.core.detach();
  }

  /** The deprecated PortType event (USBFN_PORT_TYPE value). */
  portType(portType: number): void {
    this.core.post({ event: UsbFnEvent.PortType, portType });
  }

  /** The deprecated BusTearDown event; no state change. */
  busTearDown(): void {
    this.core.post({ event: UsbFnEvent.BusTearDown });
  }

  /** Any event code with the given union bytes (up to 8, zero-filled): for codes the library does not know. */
  rawEvent(code: number, unionBytes: Uint8Array = new Uint8Array(8)): void {
    this.core.post({ event: code, raw: unionBytes });
  }

  /**
   * One control transfer on EP0. Device-to-host: resolves with the data stage (possibly shorter
   * than wLength). Host-to-device: `data` must hold exactly wLength bytes; resolves empty.
   * Standard requests are answered by the emulator; class (and vendor) requests go to the device.
   * Rejects USBFN_ERR_STALLED, _TIMEOUT, _DISCONNECTED, or _CANCELED (a reset or newer setup).
   */
  controlTransfer(setup: SetupPacket, data?: Uint8Array, options: ControlTransferOptions = {}): Promise<Uint8Array> {
    const op = 'controlTransfer';
    const invalid = checkHostOpOptions(op, options);
    if (invalid) return Promise.reject(invalid);
    const refusal = this.busRefusal(op, true);
    if (refusal) return Promise.reject(refusal);
    const fields = [setup.bmRequestType, setup.bRequest, setup.wValue, setup.wIndex, setup.wLength];
    if (fields.some((v, i) => !Number.isInteger(v) || v < 0 || v > (i < 2 ? 0xff : 0xffff))) return refuse(ErrorCodes.INVALID_ARG, op, 'setup packet field out of range');
    const toHost = (setup.bmRequestType & 0x80) !== 0;
    const dataLength = data?.length ?? 0;
    if (toHost && dataLength > 0) return refuse(ErrorCodes.INVALID_ARG, op, 'a device-to-host request takes no data');
    if (!toHost && dataLength !== setup.wLength) return refuse(ErrorCodes.INVALID_ARG, op, `data must be wLength (${setup.wLength}) bytes, got ${dataLength}`);
    if (options.signal?.aborted) return Promise.reject(canceledError(op, options.signal.reason));
    const timeoutMs = options.timeoutMs ?? this.core.options.controlTimeoutMs;
    return this.core.control.hostTransfer({ ...setup }, data && Uint8Array.from(data), { timeoutMs, signal: options.signal });
  }

  /**
   * Sends `bytes` to an OUT endpoint as packets (plus a ZLP per `zlp`; 0 bytes is always one
   * ZLP). Resolves when the device has taken every packet; waits (NAK) while it has no
   * TRANSFER_OUT pending. `bytes` must not change until the promise settles (it is not copied).
   * When the bus (or the signal, or the timeout) ends it early, the error's `bytesTransferred`
   * says how many bytes the device had already taken (whole packets): send the rest, not all.
   */
  bulkOut(endpointAddress: number, bytes: Uint8Array, options: BulkOutOptions = {}): Promise<void> {
    const invalid = checkHostOpOptions('bulkOut', options, ['zlp']);
    if (invalid) return Promise.reject(invalid);
    if (!(bytes instanceof Uint8Array)) return refuse(ErrorCodes.INVALID_ARG, 'bulkOut', 'bytes must be a Buffer or Uint8Array');
    const pipe = this.dataPipe('bulkOut', endpointAddress, false, options.signal);
    if (pipe instanceof UsbFnError) return Promise.reject(pipe);
    const zlp = bytes.length === 0 || (options.zlp === true && bytes.length % pipe.engine.mps === 0);
    const op = new HostOp<void>(this.core.completions, 'bulkOut', options, () => pipe.engine.cancel(x));
    const x = new Xfer(bytes, zlp, 'host', () => op.resolve(), (_, reason) => op.abort(reason));
    pipe.engine.addSource(x);
    return op.promise.catch((err: UsbFnError) => {
      throw Object.assign(err, { bytesTransferred: x.done });
    });
  }

  /**
   * Reads from an IN endpoint until `length` bytes, a short packet or a ZLP (a ZLP alone gives
   * an empty array). Waits (NAK) while the device has no TRANSFER_IN pending. A packet larger
   * than the bytes left is babble: USBFN_ERR_MALFORMED, and that packet is lost. When the bus
   * (or the signal, or the timeout) ends it early, the error carries what had already arrived:
   * `received` (a copy) and `bytesTransferred`, as a host controller reports a cancelled URB's
   * actual length: the device counts those packets as delivered.
   */
  bulkIn(endpointAddress: number, length: number, options: BulkInOptions = {}): Promise<Uint8Array> {
    const op = 'bulkIn';
    const invalid = checkHostOpOptions(op, options, ['into']);
    if (invalid) return Promise.reject(invalid);
    if (!Number.isInteger(length) || length < 0) return refuse(ErrorCodes.INVALID_ARG, op, `length must be a non-negative integer, got ${length}`);
    if (options.into && options.into.length < length) return refuse(ErrorCodes.INVALID_ARG, op, '`into` is shorter than length');
    const pipe = this.dataPipe(op, endpointAddress, true, options.signal);
    if (pipe instanceof UsbFnError) return Promise.reject(pipe);
    const buf = options.into ? options.into.subarray(0, length) : new Uint8Array(length);
    const hostOp = new HostOp<Uint8Array>(this.core.completions, op, options, () => pipe.engine.cancel(x));
    const x = new Xfer(buf, false, 'host', (_, outcome) => {
      if (outcome === 'ok') hostOp.resolve(buf.subarray(0, x.done));
      else hostOp.reject(error(ErrorCodes.MALFORMED, op, `babble: the device sent a packet larger than the ${length - x.done} bytes left`));
    }, (_, reason) => hostOp.abort(reason));
    pipe.engine.addSink(x);
    return hostOp.promise.catch((err: UsbFnError) => {
      throw Object.assign(err, { bytesTransferred: x.done, received: buf.slice(0, x.done) });
    });
  }

  /** True when the endpoint is halted (SET_PIPE_STATE TRUE by the device, or halted by the host). */
  isHalted(endpointAddress: number): boolean {
    if ((endpointAddress & 0x7f) === 0) return this.core.control.halted;
    return this.pipe('isHalted', endpointAddress).halted;
  }

  /** CLEAR_FEATURE(ENDPOINT_HALT): the endpoint moves data again. */
  clearHalt(endpointAddress: number): void {
    if ((endpointAddress & 0x7f) === 0) this.core.control.halted = false;
    else this.core.setHalt(this.pipe('clearHalt', endpointAddress), false);
  }

  /** The text registered for string index `index` (REGISTER_USB_STRING), or undefined. */
  getString(index: number): string | undefined {
    return this.core.strings.get(index);
  }

  private pipe(operation: string, address: number): DataPipe {
    const pipe = this.core.pipeByAddress(address);
    if (!pipe) throw error(ErrorCodes.INVALID_ARG, operation, `the interface has no endpoint 0x${address.toString(16)}`);
    return pipe;
  }

  /** The pipe a bulk call may use, or the error it must reject with. */
  private dataPipe(operation: string, address: number, isIn: boolean, signal?: AbortSignal): DataPipe | UsbFnError {
    const refusal = this.busRefusal(operation, false);
    if (refusal) return refusal;
    const pipe = this.core.pipeByAddress(address);
    if (!pipe || pipe.cfg.isIn !== isIn) return error(ErrorCodes.INVALID_ARG, operation, `the interface has no ${isIn ? 'IN' : 'OUT'} endpoint 0x${address.toString(16)}`);
    if (this.core.state !== 'configured') return error(ErrorCodes.INVALID_STATE, operation, `the device is not configured (state ${this.core.state})`);
    if (pipe.halted) return error(ErrorCodes.STALLED, operation, `endpoint 0x${address.toString(16)} is halted`);
    if (signal?.aborted) return canceledError(operation, signal.reason);
    return pipe;
  }

  private busRefusal(operation: string, control: boolean): UsbFnError | undefined {
    const { closed, state } = this.core;
    if (closed || state === 'detached') return error(ErrorCodes.DISCONNECTED, operation, closed ? 'the device is closed' : 'the device is detached');
    if (state === 'suspended') return error(ErrorCodes.INVALID_STATE, operation, 'the bus is suspended');
    if (control && state === 'attached') return error(ErrorCodes.INVALID_STATE, operation, 'the bus has not been reset since attach');
    return undefined;
  }
}
