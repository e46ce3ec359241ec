/**
 * GenericUsbFnDriver: the UsbFnDriver seam implemented by marshalling each call into the exact
 * lpInBuffer / lpOutBuffer bytes GenericUSBFn.sys takes (GenericUsbFnIoctl.h), over an IoctlDevice.
 * On Windows the IoctlDevice is the koffi overlapped handle; in tests and on other platforms it
 * is the emulator, so these bytes are exercised everywhere.
 */
import { checkOptions, describe, invalidArg } from '../../validate.js';
import createDebug from 'debug';
import * as IOCTL from '../../../native-defs/ioctl.js';
import {
  CodecError,
  decodeClassInformationPacket,
  decodeClassInformationPacketEx,
  decodeInterfaceInfo,
  encodeInterfaceInfoHeader,
  encodePipeId,
  encodeUsbString,
  readInterfaceInfoSize,
  type InterfaceInfoSizeMode,
} from '../../../native-defs/codec.js';
import { LAYOUT } from '../../../native-defs/layout.js';
import { ErrorCodes, UsbFnError, isUsbFnError } from '../../errors.js';
import type {
  BusEvent, BusSpeed, ClassInfo, ClassInfoEx, InterfaceDescriptorSet, OpOptions, TransferHandle, TransferInOptions, TransferSink, UsbFnDriver,
} from '../driver.js';
import { BusEventPump } from './bus-event-pump.js';
import { BulkTransfer, admitTransfer, checkedBytes, controlTransfer, transferCode, type TransferContext } from './bulk-transfers.js';
import { busSpeedName, busSpeedValue, toClassInfo, toClassInfoEx } from './decode.js';
import { ioctlFailure } from './errors.js';
import { HaltChecks } from './halt-checks.js';
import type { IoctlDevice } from './ioctl-device.js';
import { RequestGate, closedError } from './request-gate.js';

const debug = createDebug('usbfn:driver');

export interface GenericUsbFnDriverOptions {
  /** BUS_EVENT_NOTIFICATION requests kept pending (default 4). */
  notificationDepth?: number;
  /** Completed bus events held for a slow reader before notifications stop being re-issued (default 1024). */
  eventQueueLimit?: number;
  /** What USBFN_INTERFACE_INFO.Size counts, open in the spec (default 'payload': the descriptor bytes). */
  interfaceInfoSizeMode?: InterfaceInfoSizeMode;
  /** First output size tried for GET_INTERFACE_DESCRIPTOR_SET (default 256; it grows on ERROR_INSUFFICIENT_BUFFER). */
  initialDescriptorSetBuffer?: number;
}

/** Largest USBFN_INTERFACE_INFO the driver can describe: the header plus a u16 Size. */
const MAX_INTERFACE_INFO = LAYOUT.INTERFACE_INFO_SET_OFFSET + 0xffff;
/** A USB string descriptor's bLength is one byte: 2 + 2·n ≤ 255. */
const MAX_STRING_UNITS = 126;
const DESCRIPTOR_SET_TRIES = 4;

/**
 * The constructor's arguments: an IoctlDevice (something with ioctl(), such as the emulator or
 * the Win32 device) and known options. Throws INVALID_ARG rather than failing later in a TypeError.
 */
function checkDriverArgs(device: unknown, options: unknown): void {
  const op = 'GenericUsbFnDriver';
  if (typeof (device as { ioctl?: unknown } | null)?.ioctl !== 'function') {
    throw invalidArg(op, `takes an IoctlDevice such as new EmulatedGenericUsbFn() (usbfn/emulator) or the Win32 device, got ${describe(device)}`);
  }
  checkOptions(op, options, ['notificationDepth', 'eventQueueLimit', 'interfaceInfoSizeMode', 'initialDescriptorSetBuffer']);
}

export class GenericUsbFnDriver implements UsbFnDriver {
  /** Refuses requests once closing, and counts those the device holds: close() waits until it is 0. */
  private readonly gate: RequestGate;
  private readonly pipeIds = new Map<number, Uint8Array>();
  private readonly pump: BusEventPump;
  private readonly haltChecks = new HaltChecks();
  /** What the data transfers (bulk-transfers.ts) use of this driver. */
  private readonly transfers: TransferContext;
  private readonly sizeMode: InterfaceInfoSizeMode;
  private readonly initialSetBuffer: number;
  private activation: Promise<void> | null = null;
  private closing: Promise<void> | null = null;

  /** Takes ownership of `device`: close() closes it. */
  constructor(private readonly device: IoctlDevice, options: GenericUsbFnDriverOptions = {}) {
    checkDriverArgs(device, options);
    this.gate = new RequestGate(device);
    this.transfers = {
      gate: this.gate,
      haltChecks: this.haltChecks,
      pipeIdBytes: (pipeId) => this.pipeIdBytes(pipeId),
      getPipeState: (pipeId) => this.getPipeState(pipeId),
      ioctl: (code, input, output, signal) => this.ioctl(code, input, output, signal),
    };
    this.sizeMode = options.interfaceInfoSizeMode ?? 'payload';
    this.initialSetBuffer = Math.max(LAYOUT.INTERFACE_INFO_SIZE, options.initialDescriptorSetBuffer ?? 256);
    this.pump = new BusEventPump(
      (buffer) => this.ioctl(IOCTL.IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION, null, buffer),
      options.notificationDepth ?? 4,
      options.eventQueueLimit ?? 1024,
    );
  }

  get closed(): boolean {
    return this.closing !== null;
  }

  async getClassInfo(options?: OpOptions): Promise<ClassInfo> {
    const out = new Uint8Array(LAYOUT.CLASS_INFO_SIZE);
    await this.fixedSize(IOCTL.IOCTL_GENERICUSBFN_GET_CLASS_INFO, out, options);
    return toClassInfo(this.decoded(IOCTL.IOCTL_GENERICUSBFN_GET_CLASS_INFO, () => decodeClassInformationPacket(out)));
  }

  async getClassInfoEx(options?: OpOptions): Promise<ClassInfoEx> {
    const out = new Uint8Array(LAYOUT.CLASS_INFO_SIZE);
    await this.fixedSize(IOCTL.IOCTL_GENERICUSBFN_GET_CLASS_INFO_EX, out, options);
    return toClassInfoEx(this.decoded(IOCTL.IOCTL_GENERICUSBFN_GET_CLASS_INFO_EX, () => decodeClassInformationPacketEx(out)));
  }

  activate(options?: OpOptions): Promise<void> {
    if (this.closing) return Promise.reject(this.closedError('activate'));
    if (!this.activation) {
      this.pump.start();
      this.activation = this.ioctl(IOCTL.IOCTL_GENERICUSBFN_ACTIVATE_USB_BUS, null, null, options?.signal).then(
        () => debug('bus activated'),
        (err) => {
          this.activation = null; // a failed or cancelled activation may be retried
          throw err;
        },
      );
    }
    return this.activation;
  }

  async deactivate(options?: OpOptions): Promise<void> {
    await this.ioctl(IOCTL.IOCTL_GENERICUSBFN_DEACTIVATE_USB_BUS, null, null, options?.signal);
    this.activation = null;
  }

  nextBusEvent(options?: OpOptions): Promise<BusEvent> {
    if (!this.closing) this.pump.start();
    return this.pump.next(options?.signal);
  }

  transferIn(pipeId: number, data: Uint8Array, options?: TransferInOptions): Promise<number> {
    return this.transfer('in', pipeId, data, options);
  }

  transferOut(pipeId: number, buffer: Uint8Array, options?: OpOptions): Promise<number> {
    return this.transfer('out', pipeId, buffer, options);
  }

  /** UsbFnDriver.openTransfer: the streams' allocation-free transfers (bulk-transfers.ts). */
  openTransfer(direction: 'in' | 'out', sink: TransferSink): TransferHandle {
    return new BulkTransfer(this.transfers, direction, sink);
  }

  async getPipeState(pipeId: number, options: OpOptions = {}): Promise<boolean> {
    const out = new Uint8Array(LAYOUT.BOOLEAN_SIZE);
    await this.ioctl(IOCTL.IOCTL_GENERICUSBFN_GET_PIPE_STATE, this.pipeIdBytes(pipeId), out, options.signal);
    return out[0] !== 0;
  }

  async setPipeState(pipeId: number, stalled: boolean, options: OpOptions = {}): Promise<void> {
    const flag = Uint8Array.of(stalled ? 1 : 0);
    await this.ioctl(IOCTL.IOCTL_GENERICUSBFN_SET_PIPE_STATE, this.pipeIdBytes(pipeId), flag, options.signal);
  }

  async controlHandshakeIn(options: OpOptions = {}): Promise<void> {
    await this.ioctl(IOCTL.IOCTL_GENERICUSBFN_CONTROL_STATUS_HANDSHAKE_IN, this.pipeIdBytes(0), null, options.signal);
  }

  async controlHandshakeOut(options: OpOptions = {}): Promise<void> {
    await this.ioctl(IOCTL.IOCTL_GENERICUSBFN_CONTROL_STATUS_HANDSHAKE_OUT, this.pipeIdBytes(0), null, options.signal);
  }

  async registerString(index: number, text: string, options: OpOptions = {}): Promise<void> {
    if (!Number.isInteger(index) || index < 1 || index > 255) {
      throw new UsbFnError(ErrorCodes.INVALID_ARG, `string index must be 1..255 (0 is the language table), got ${index}`);
    }
    if (typeof text !== 'string' || text.length > MAX_STRING_UNITS) {
      throw new UsbFnError(ErrorCodes.INVALID_ARG, `a USB string holds at most ${MAX_STRING_UNITS} UTF-16 units`);
    }
    const input = encodeUsbString({ stringIndex: index, text });
    await this.ioctl(IOCTL.IOCTL_GENERICUSBFN_REGISTER_USB_STRING, input, null, options.signal);
  }

  async getInterfaceDescriptorSet(interfaceNumber: number, speed: BusSpeed, options: OpOptions = {}): Promise<InterfaceDescriptorSet> {
    const code = IOCTL.IOCTL_GENERICUSBFN_GET_INTERFACE_DESCRIPTOR_SET;
    const input = encodeInterfaceInfoHeader(interfaceNumber, busSpeedValue(speed));
    let out = new Uint8Array(this.initialSetBuffer);
    for (let attempt = 1; ; attempt++) {
      try {
        const bytes = await this.ioctl(code, input, out, options.signal);
        const info = this.decoded(code, () => decodeInterfaceInfo(out, bytes, this.sizeMode));
        return { interfaceNumber: info.interfaceNumber, speed: busSpeedName(info.speed), descriptors: info.descriptorSet };
      } catch (err) {
        if (!isUsbFnError(err, ErrorCodes.INSUFFICIENT_BUFFER) || attempt >= DESCRIPTOR_SET_TRIES) throw err;
        out = new Uint8Array(this.grownDescriptorBuffer(out, err));
        debug('descriptor set: retrying with %d bytes', out.length);
      }
    }
  }

  /** Closes once; every caller awaits the same completion. */
  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  // ---------------------------------------------------------------- internals

  private async shutDown(): Promise<void> {
    this.gate.closing = true;
    debug('closing with %d requests pending', this.gate.pendingCount);
    this.pump.stop(this.closedError('nextBusEvent'));
    // The device's close() cancels everything still pending and waits for it (IoctlDevice
    // contract), so requests need no link to a close signal of ours: the caller's signal, if any,
    // goes to the device as it is, which keeps the per-transfer cost at zero allocations.
    await this.device.close();
    await this.gate.whenIdle();
  }

  /**
   * Sizes the retry after ERROR_INSUFFICIENT_BUFFER: the header plus the driver's Size covers both
   * readings of Size; if the driver said nothing useful, double. Never past what Size can describe.
   */
  private grownDescriptorBuffer(out: Uint8Array, err: UsbFnError): number {
    const size = out.length >= LAYOUT.INTERFACE_INFO_SET_OFFSET ? readInterfaceInfoSize(out) : 0;
    const wanted = Math.max(LAYOUT.INTERFACE_INFO_SET_OFFSET + size, out.length * 2);
    if (out.length >= MAX_INTERFACE_INFO) throw err;
    return Math.min(wanted, MAX_INTERFACE_INFO);
  }

  /**
   * transferIn / transferOut: a one-off BulkTransfer in a promise. A refusal rejects at once and
   * EP0 keeps its own path, so callers see the microtask timing they always had.
   */
  private transfer(direction: 'in' | 'out', pipeId: number, buffer: Uint8Array, options: TransferInOptions | undefined): Promise<number> {
    const code = transferCode(direction, options);
    const signal = options?.signal;
    const admitted = admitTransfer(this.transfers, code, pipeId, buffer, signal);
    if (admitted instanceof UsbFnError) return Promise.reject(admitted);
    if (pipeId === 0) return controlTransfer(this.transfers, code, admitted, buffer, signal, direction === 'in');
    return new Promise((resolve, reject) => {
      new BulkTransfer(this.transfers, direction, { transferred: resolve, transferFailed: reject }).issue(code, pipeId, admitted, buffer, signal);
    });
  }

  /** For structs the driver fills whole: fewer bytes than the struct is malformed data. */
  private async fixedSize(code: number, out: Uint8Array, options?: OpOptions): Promise<void> {
    const bytes = await this.ioctl(code, null, out, options?.signal);
    if (bytes !== out.length) {
      throw new UsbFnError(ErrorCodes.MALFORMED, `${IOCTL.ioctlName(code)} returned ${bytes} bytes, expected ${out.length}`, {
        operation: IOCTL.ioctlName(code),
      });
    }
  }

  private decoded<T>(code: number, decode: () => T): T {
    try {
      return decode();
    } catch (err) {
      if (!(err instanceof CodecError)) throw err;
      throw new UsbFnError(ErrorCodes.MALFORMED, `${IOCTL.ioctlName(code)}: ${err.message}`, { cause: err, operation: IOCTL.ioctlName(code) });
    }
  }

  /** The 4-byte USBFNPIPEID input, cached per pipe: the device only reads it, so requests share it. */
  private pipeIdBytes(pipeId: number): Uint8Array {
    let bytes = this.pipeIds.get(pipeId);
    if (!bytes) {
      if (!Number.isInteger(pipeId) || pipeId < 0 || pipeId > 0xffffffff) {
        throw new UsbFnError(ErrorCodes.INVALID_ARG, `pipe id must be a u32, got ${pipeId}`);
      }
      bytes = encodePipeId(pipeId, Buffer.alloc(4));
      this.pipeIds.set(pipeId, bytes);
    }
    return bytes;
  }

  /**
   * Every request but the transfers goes through here: refuses after close, counts the request
   * until it settles (close waits for all), maps failures to UsbFnError, and refuses a byte count
   * larger than the output buffer.
   */
  private ioctl(code: number, input: Uint8Array | null, output: Uint8Array | null, signal?: AbortSignal): Promise<number> {
    const refused = this.gate.refusal(code, signal);
    if (refused) return Promise.reject(refused);
    return this.send(code, input, output, signal);
  }

  private async send(code: number, input: Uint8Array | null, output: Uint8Array | null, signal: AbortSignal | undefined): Promise<number> {
    let bytes: number;
    try {
      bytes = await this.gate.issue(code, input, output, signal);
    } catch (err) {
      throw ioctlFailure(err, code);
    } finally {
      this.gate.settled();
    }
    return checkedBytes(code, bytes, output);
  }

  private closedError(operation: string): UsbFnError {
    return closedError(operation);
  }
}
