/**
 * The seam: one promise-based interface every backend implements (GenericUSBFn.sys through an
 * IoctlDevice, later FunctionFS). Streams and control (lib/) talk only to this, as serialport's
 * stream talks only to its bindings interface.
 *
 * Contract shared by every method:
 * - Failures reject with a UsbFnError (lib/errors.ts) whose `code` is stable; driver failures
 *   carry `win32Error`. Nothing rejects with a bare string or a platform error.
 * - `signal` cancels the one operation it is given to; the promise then rejects with
 *   USBFN_ERR_CANCELED only after the backend has let go of the caller's buffer.
 * - A bus Reset, Detach or UnConfigured cancels pending transfers: they reject with
 *   USBFN_ERR_CANCELED (`win32Error` 995) and the caller re-issues them once Configured again.
 * - After close() begins, every pending operation settles (CANCELED) and new calls reject with
 *   USBFN_ERR_CLOSED.
 * - Byte counts are clamped to the caller's buffer: a backend claiming more is USBFN_ERR_MALFORMED.
 */
import type { EndpointType } from '../../native-defs/enums.js';
import type { EndpointDescriptor, SetupPacket } from '../../native-defs/codec.js';

export type BusSpeed = 'low' | 'full' | 'high' | 'super';
export const BUS_SPEEDS: readonly BusSpeed[] = ['low', 'full', 'high', 'super'];

/** One pipe of the function at one speed. `pipeId` is opaque: pass it back, never compute it. */
export interface PipeInfo {
  pipeId: number;
  endpointAddress: number;
  /** 'in' = device to host (TRANSFER_IN), 'out' = host to device (TRANSFER_OUT). */
  direction: 'in' | 'out';
  /** Endpoint number, bits 0–3 of the address. */
  endpointNumber: number;
  type: EndpointType;
  /** wMaxPacketSize bits 0–10. */
  maxPacketSize: number;
  interval: number;
  descriptor: EndpointDescriptor;
}

export interface SpeedPipes {
  interfaceNumber: number;
  /** In driver order. pipes[0] is EP0 by Microsoft's convention when it is a control endpoint. */
  pipes: PipeInfo[];
}

export interface ClassInfo {
  interfaceName: string;
  interfaceGuid: string | null;
  full: SpeedPipes;
  high: SpeedPipes;
  super: SpeedPipes;
}

export interface SpeedPipesEx {
  baseInterfaceNumber: number;
  interfaceCount: number;
  pipes: PipeInfo[];
}

export interface ClassInfoEx {
  interfaceName: string;
  interfaceGuid: string | null;
  full: SpeedPipesEx;
  high: SpeedPipesEx;
  super: SpeedPipesEx;
}

/** A bus notification, decoded. Unknown event codes arrive as `unknown` with the raw union. */
export type BusEvent =
  | { type: 'attach'; speed: BusSpeed | number }
  | { type: 'reset'; speed: BusSpeed | number }
  | { type: 'detach' }
  | { type: 'suspend' }
  | { type: 'resume' }
  | { type: 'setup'; setup: SetupPacket }
  | { type: 'configured'; configurationValue: number }
  | { type: 'unconfigured' }
  | { type: 'porttype'; portType: number }
  | { type: 'busteardown' }
  | { type: 'setinterface'; interfaceNumber: number; alternateSetting: number }
  | { type: 'unknown'; code: number; raw: Uint8Array };

export type BusEventType = BusEvent['type'];

export interface OpOptions {
  signal?: AbortSignal;
}

export interface TransferInOptions extends OpOptions {
  /**
   * true: IOCTL_GENERICUSBFN_TRANSFER_IN_APPEND_ZERO_PKT, so a transfer whose length is a
   * multiple of wMaxPacketSize is followed by a zero-length packet (the last write of a logical
   * transfer). false (default): plain TRANSFER_IN, never a ZLP. A 0-byte transfer sends one ZLP
   * either way.
   */
  zlp?: boolean;
}

/** Where a TransferHandle reports each transfer's outcome (a stream's read slot or write op). */
export interface TransferSink {
  /** The transfer succeeded: `bytes` is what transferIn / transferOut would have resolved with. */
  transferred(bytes: number): void;
  /** The transfer failed: `err` is what transferIn / transferOut would have rejected with. */
  transferFailed(err: unknown): void;
}

/**
 * A reusable transfer slot on one direction of the data pipes (see UsbFnDriver.openTransfer): it
 * carries at most one transfer at a time and reports each to the sink it was opened with.
 */
export interface TransferHandle {
  /**
   * Issues one transfer, as transferIn ('in') or transferOut ('out') would with the same
   * arguments, and reports it to the sink exactly once: never from within submit() itself, no
   * later than a `.then` on their promise would run, and failures no later than successes of
   * transfers that settle after them. Never throws. Submit again only after the sink has heard
   * of the previous transfer.
   */
  submit(pipeId: number, buffer: Uint8Array, options?: TransferInOptions): void;
}

export interface InterfaceDescriptorSet {
  interfaceNumber: number;
  speed: BusSpeed | number;
  /** The descriptor bytes (interface, endpoints, class-specific), copied out of the driver's buffer. */
  descriptors: Uint8Array;
}

export interface UsbFnDriver {
  /** Pipes per speed as the registry configures them (GET_CLASS_INFO). Call before activate(). */
  getClassInfo(options?: OpOptions): Promise<ClassInfo>;

  /** The multi-interface variant (GET_CLASS_INFO_EX). */
  getClassInfoEx(options?: OpOptions): Promise<ClassInfoEx>;

  /**
   * Connects the device to the host (ACTIVATE_USB_BUS). Starts the bus-event pump first, so the
   * Attach/Reset that activation causes is never missed. Idempotent per driver.
   */
  activate(options?: OpOptions): Promise<void>;

  /** DEACTIVATE_USB_BUS. GenericUSBFn.sys documents it as unsupported: expect USBFN_ERR_NOT_SUPPORTED. */
  deactivate(options?: OpOptions): Promise<void>;

  /**
   * The next bus event, in the order the driver reported them. The driver keeps several
   * BUS_EVENT_NOTIFICATION requests pending at all times (option `notificationDepth`) and queues
   * completed ones, so none is lost while nobody is waiting. The pump starts at activate() or on
   * the first call, whichever is first. `signal` cancels only this wait, never a pending
   * notification. Rejects with USBFN_ERR_CLOSED once closed and the queue is drained.
   */
  nextBusEvent(options?: OpOptions): Promise<BusEvent>;

  /**
   * Sends `data` to the host on an IN pipe (TRANSFER_IN / _APPEND_ZERO_PKT). Resolves when the
   * host has taken it, with the byte count sent (`data.length`; the driver's own count is open,
   * so it is only checked never to exceed the buffer). `data` must not change until it settles.
   */
  transferIn(pipeId: number, data: Uint8Array, options?: TransferInOptions): Promise<number>;

  /**
   * Receives into `buffer` from an OUT pipe (TRANSFER_OUT). Resolves with the bytes received,
   * 0..buffer.length: the transfer ends on a short packet, a ZLP (0) or a full buffer. The
   * buffer is the caller's again once the promise settles.
   */
  transferOut(pipeId: number, buffer: Uint8Array, options?: OpOptions): Promise<number>;

  /**
   * Optional, for backends on which a promise per transfer is a measurable cost: a TransferHandle
   * for `direction` that reports to `sink`, reused for transfer after transfer (BulkPipe opens one
   * per read slot and per write it keeps in flight). The same transfers, failures and ordering as
   * transferIn / transferOut; without it, the streams use those.
   */
  openTransfer?(direction: 'in' | 'out', sink: TransferSink): TransferHandle;

  /** true when the pipe is stalled (GET_PIPE_STATE). */
  getPipeState(pipeId: number, options?: OpOptions): Promise<boolean>;

  /** Stalls (true) or clears (false) a pipe (SET_PIPE_STATE). Stalling pipe 0 refuses a setup request. */
  setPipeState(pipeId: number, stalled: boolean, options?: OpOptions): Promise<void>;

  /** Zero-length IN status stage on EP0 (CONTROL_STATUS_HANDSHAKE_IN): ends a host-to-device request. */
  controlHandshakeIn(options?: OpOptions): Promise<void>;

  /** Zero-length OUT status stage on EP0 (CONTROL_STATUS_HANDSHAKE_OUT): ends a device-to-host request. */
  controlHandshakeOut(options?: OpOptions): Promise<void>;

  /** Registers string descriptor `index` (REGISTER_USB_STRING); at most 126 UTF-16 units (a descriptor's limit). */
  registerString(index: number, text: string, options?: OpOptions): Promise<void>;

  /**
   * The interface's descriptor set at a speed (GET_INTERFACE_DESCRIPTOR_SET), growing the
   * buffer and retrying on ERROR_INSUFFICIENT_BUFFER as the driver's `Size` asks.
   */
  getInterfaceDescriptorSet(interfaceNumber: number, speed: BusSpeed, options?: OpOptions): Promise<InterfaceDescriptorSet>;

  /** Cancels every pending request, waits for each to settle, releases the device. Idempotent. */
  close(): Promise<void>;
}
