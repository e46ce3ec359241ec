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
import { ERROR_GEN_FAILURE } from '../../../native-defs/win32-errors.js';
import { ErrorCodes, UsbFnError, canceledError, isUsbFnError } from '../../errors.js';
import type {
  BusEvent, BusSpeed, ClassInfo, ClassInfoEx, InterfaceDescriptorSet, OpOptions, TransferInOptions, UsbFnDriver,
} from '../driver.js';
import { BusEventPump } from './bus-event-pump.js';
import { busSpeedName, busSpeedValue, toClassInfo, toClassInfoEx } from './decode.js';
import { ioctlFailure } from './errors.js';
import { HaltChecks } from './halt-checks.js';
import type { IoctlDevice } from './ioctl-device.js';

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
  /** Requests issued to the device and not yet settled; close() waits until it is 0. */
  private pending = 0;
  private idleWaiters: Array<() => void> = [];
  private readonly pipeIds = new Map<number, Uint8Array>();
  private readonly pump: BusEventPump;
  private readonly haltChecks = new HaltChecks();
  private readonly sizeMode: InterfaceInfoSizeMode;
  private readonly initialSetBuffer: number;
  private activation: Promise<void> | null = null;
  private closing: Promise<void> | null = null;

  /** Takes ownership of `device`: close() closes it. */
  constructor(private readonly device: IoctlDevice, options: GenericUsbFnDriverOptions = {}) {
    checkDriverArgs(device, options);
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
    const code = options?.zlp ? IOCTL.IOCTL_GENERICUSBFN_TRANSFER_IN_APPEND_ZERO_PKT : IOCTL.IOCTL_GENERICUSBFN_TRANSFER_IN;
    // What lpBytesReturned holds after TRANSFER_IN is open (the length, or 0): either is accepted,
    // anything beyond the buffer is not, and the caller learns the length it sent.
    return this.transfer(code, pipeId, data, options?.signal, true);
  }

  transferOut(pipeId: number, buffer: Uint8Array, options?: OpOptions): Promise<number> {
    return this.transfer(IOCTL.IOCTL_GENERICUSBFN_TRANSFER_OUT, pipeId, buffer, options?.signal, false);
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
    debug('closing with %d requests pending', this.pending);
    this.pump.stop(this.closedError('nextBusEvent'));
    // The device's close() cancels everything still pending and waits for it (IoctlDevice
    // contract), so requests need no link to a close signal of ours: the caller's signal, if any,
    // goes to the device as it is, which keeps the per-transfer cost at zero allocations.
    await this.device.close();
    if (this.pending > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  /** One request has settled: wakes close() when it was the last. */
  private settled(): void {
    if (--this.pending > 0 || this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const wake of waiters) wake();
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
   * The hot path: one `.then` on the device's promise, no async frames. `sentLength` (TRANSFER_IN)
   * resolves with the buffer's length instead of lpBytesReturned, once that is checked.
   */
  private transfer(code: number, pipeId: number, buffer: Uint8Array, signal: AbortSignal | undefined, sentLength: boolean): Promise<number> {
    if (!(buffer instanceof Uint8Array)) return Promise.reject(new UsbFnError(ErrorCodes.INVALID_ARG, 'transfer buffer must be a Uint8Array'));
    let pipeIdBytes: Uint8Array;
    try {
      pipeIdBytes = this.pipeIdBytes(pipeId);
    } catch (err) {
      return Promise.reject(err);
    }
    if (pipeId === 0) return this.controlTransfer(code, pipeIdBytes, buffer, signal, sentLength);
    const refused = this.refusal(code, signal) ?? this.haltChecks.refusal(pipeId, code);
    if (refused) return Promise.reject(refused);
    return this.issue(code, pipeIdBytes, buffer, signal).then(
      (bytes) => {
        this.settled();
        const n = this.checkedBytes(code, bytes, buffer);
        return sentLength ? buffer.length : n;
      },
      (err: unknown) => {
        this.settled();
        const failure = ioctlFailure(err, code);
        // Thrown, not returned as a promise: a failure then reaches the caller in as many
        // microtasks as a success, so a writer learns that the bus cancelled a write before it
        // acts on a later completion, or on the bus event that follows the cancellation (the
        // event pump's path is no shorter). Only a possible halt takes the round trip below.
        if (!HaltChecks.needsCheck(failure) || this.closing) throw failure;
        return this.haltChecks.during(pipeId, () => this.explainTransferFailure(failure, pipeId)).then((explained) => Promise.reject(explained));
      },
    );
  }

  /**
   * EP0's data stages keep the sequencing they had before the lean path (the caller resumes a few
   * microtasks after the device settles): a status handshake issued sooner can land after the
   * driver has completed a newer SETUP's notification but before ControlChannel has seen it, and
   * then answers the newer request (test/reliability/stale-status-handshake.test.ts). EP0 is not
   * a hot path; closing that window for real belongs to the control layer.
   */
  private async controlTransfer(code: number, pipeIdBytes: Uint8Array, buffer: Uint8Array, signal: AbortSignal | undefined, sentLength: boolean): Promise<number> {
    const bytes = await this.controlStage(code, pipeIdBytes, buffer, signal);
    return sentLength ? buffer.length : bytes;
  }

  private async controlStage(code: number, pipeIdBytes: Uint8Array, buffer: Uint8Array, signal: AbortSignal | undefined): Promise<number> {
    try {
      return await this.ioctl(code, pipeIdBytes, buffer, signal);
    } catch (err) {
      throw await this.explainTransferFailure(err, 0);
    }
  }

  /** A transfer failing with ERROR_GEN_FAILURE on a halted pipe is reported as STALLED. */
  private async explainTransferFailure(err: unknown, pipeId: number): Promise<unknown> {
    if (!isUsbFnError(err) || err.win32Error !== ERROR_GEN_FAILURE || this.closing) return err;
    const stalled = await this.getPipeState(pipeId).catch(() => false);
    if (!stalled) return err;
    return new UsbFnError(ErrorCodes.STALLED, `pipe ${pipeId} is stalled`, { cause: err, win32Error: err.win32Error, operation: err.operation });
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
    const refused = this.refusal(code, signal);
    if (refused) return Promise.reject(refused);
    return this.send(code, input, output, signal);
  }

  private async send(code: number, input: Uint8Array | null, output: Uint8Array | null, signal: AbortSignal | undefined): Promise<number> {
    let bytes: number;
    try {
      bytes = await this.issue(code, input, output, signal);
    } catch (err) {
      throw ioctlFailure(err, code);
    } finally {
      this.settled();
    }
    return this.checkedBytes(code, bytes, output);
  }

  /** Why a request is refused before it reaches the device (closed, or an aborted signal), or null. */
  private refusal(code: number, signal: AbortSignal | undefined): UsbFnError | null {
    if (this.closing) return this.closedError(IOCTL.ioctlName(code) ?? 'ioctl');
    if (signal?.aborted) return canceledError(IOCTL.ioctlName(code) ?? 'ioctl', signal.reason);
    return null;
  }

  /** Sends one request to the device and counts it as pending: the caller's handlers call settled(). */
  private issue(code: number, input: Uint8Array | null, output: Uint8Array | null, signal: AbortSignal | undefined): Promise<number> {
    this.pending++;
    try {
      return this.device.ioctl(code, input, output, signal);
    } catch (err) {
      return Promise.reject(err); // a device that threw instead of rejecting
    }
  }

  private checkedBytes(code: number, bytes: number, output: Uint8Array | null): number {
    const capacity = output?.length ?? 0;
    if (!Number.isInteger(bytes) || bytes < 0 || bytes > capacity) {
      throw new UsbFnError(ErrorCodes.MALFORMED, `${IOCTL.ioctlName(code)} claimed ${bytes} bytes for a ${capacity}-byte buffer`, {
        operation: IOCTL.ioctlName(code),
      });
    }
    return bytes;
  }

  private closedError(operation: string): UsbFnError {
    return new UsbFnError(ErrorCodes.CLOSED, `${operation}: the driver is closed`, { operation });
  }
}
