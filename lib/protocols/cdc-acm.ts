/**
 * CDC-ACM (USB Communications Device Class, Abstract Control Model, CDC 1.2 / PSTN 1.2) as data:
 * the class requests the host's serial driver sends, the line coding and control-line codecs,
 * the SERIAL_STATE notification, and the descriptor layouts each host driver binds to.
 *
 * Layouts (what each host's stock driver needs; see README "Serial function: host drivers"):
 * - 'functionfs': one interface, class 02/02/01, three endpoints (interrupt IN, bulk IN, bulk
 *   OUT), no CDC class-specific (0x24) descriptors (FunctionFS on Linux 6.1 rejects them with
 *   EINVAL), and one 3-byte OTG descriptor right after the interface descriptor. Why: Linux's
 *   cdc_acm refuses an interface whose extra descriptor bytes are empty ("Zero length descriptor
 *   references") before it reaches its single-interface path; any descriptor that is not 0x24 is
 *   skipped there as "garbage", so with no union descriptor and bNumEndpoints == 3 it takes the
 *   "castrated device" path and binds without new_id. The OTG descriptor is one FunctionFS accepts.
 *   Status: proven in the VM (Linux 6.1.0-57 cdc_acm over dummy_hcd, test/e2e/serial-host.mjs):
 *   binds with no new_id; line coding, DTR and SERIAL_STATE work; a break is refused (EOPNOTSUPP).
 * - 'genericusbfn': the same single interface with a CDC Header and an ACM functional descriptor
 *   (the Windows registry's InterfaceDescriptor may hold class-specific descriptors). Linux
 *   cdc_acm takes the same single-interface path (no union, no call management). Windows
 *   usbser.sys binds by compatible ID USB\Class_02&SubClass_02&Prot_01 on an interface of a
 *   composite device; whether it accepts one interface with three endpoints is unproven.
 */
import { ErrorCodes, UsbFnError } from '../errors.js';
import type { EndpointDeclaration, InterfaceDeclaration } from './interface-declaration.js';

/** CDC class requests (bRequest) the ACM function answers. */
export const CdcRequest = Object.freeze({
  SEND_ENCAPSULATED_COMMAND: 0x00,
  GET_ENCAPSULATED_RESPONSE: 0x01,
  SET_LINE_CODING: 0x20,
  GET_LINE_CODING: 0x21,
  SET_CONTROL_LINE_STATE: 0x22,
  SEND_BREAK: 0x23,
} as const);

/** bNotification of SERIAL_STATE (PSTN 1.2 §6.5.4). */
export const CDC_NOTIFY_SERIAL_STATE = 0x20;

export type Parity = 'none' | 'odd' | 'even' | 'mark' | 'space';
export type StopBits = 1 | 1.5 | 2;

/** The line coding the host set (SET_LINE_CODING), as serialport names it. */
export interface LineCoding {
  baudRate: number;
  dataBits: 5 | 6 | 7 | 8 | 16;
  parity: Parity;
  stopBits: StopBits;
}

/** The control lines the host drives (SET_CONTROL_LINE_STATE). */
export interface ControlLines {
  dtr: boolean;
  rts: boolean;
}

/** The device's line state reported to the host in SERIAL_STATE; omitted fields are false. */
export interface SerialState {
  /** Data carrier detect (bRxCarrier). */
  dcd?: boolean;
  /** Data set ready (bTxCarrier). */
  dsr?: boolean;
  /** A break was detected (bBreak). */
  break?: boolean;
  /** Ring indicator (bRingSignal). */
  ring?: boolean;
  framing?: boolean;
  parity?: boolean;
  overrun?: boolean;
}

const PARITIES: readonly Parity[] = ['none', 'odd', 'even', 'mark', 'space'];
const STOP_BITS: readonly StopBits[] = [1, 1.5, 2];
const DATA_BITS = [5, 6, 7, 8, 16] as const;

/** The line coding before the host sets one: 115200 8N1. */
export const DEFAULT_LINE_CODING: Readonly<LineCoding> = Object.freeze({ baudRate: 115200, dataBits: 8, parity: 'none', stopBits: 1 });

const malformed = (message: string) => new UsbFnError(ErrorCodes.MALFORMED, message, { operation: 'SET_LINE_CODING' });

/** The 7-byte line coding structure (dwDTERate, bCharFormat, bParityType, bDataBits). */
export function encodeLineCoding(lc: LineCoding): Buffer {
  const out = Buffer.alloc(7);
  out.writeUInt32LE(lc.baudRate >>> 0, 0);
  out[4] = STOP_BITS.indexOf(lc.stopBits);
  out[5] = PARITIES.indexOf(lc.parity);
  out[6] = lc.dataBits;
  return out;
}

/** Decodes SET_LINE_CODING's data stage; throws USBFN_ERR_MALFORMED on a short or out-of-range one. */
export function decodeLineCoding(data: Uint8Array): LineCoding {
  if (data.length < 7) throw malformed(`line coding is 7 bytes, got ${data.length}`);
  const b = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const stopBits = STOP_BITS[b[4]];
  const parity = PARITIES[b[5]];
  const dataBits = DATA_BITS.find((n) => n === b[6]);
  if (stopBits === undefined || parity === undefined || dataBits === undefined) {
    throw malformed(`line coding out of range: bCharFormat ${b[4]}, bParityType ${b[5]}, bDataBits ${b[6]}`);
  }
  return { baudRate: b.readUInt32LE(0), dataBits, parity, stopBits };
}

/** SET_CONTROL_LINE_STATE's wValue: bit 0 DTR, bit 1 RTS. */
export function decodeControlLines(wValue: number): ControlLines {
  return { dtr: (wValue & 1) !== 0, rts: (wValue & 2) !== 0 };
}

/** The SERIAL_STATE bitmap (D0 DCD … D6 overrun). */
export function serialStateBits(s: SerialState): number {
  const flags = [s.dcd, s.dsr, s.break, s.ring, s.framing, s.parity, s.overrun];
  return flags.reduce<number>((bits, on, i) => (on ? bits | (1 << i) : bits), 0);
}

/** The 10-byte SERIAL_STATE notification for the interrupt IN endpoint. */
export function encodeSerialState(s: SerialState, interfaceNumber: number): Buffer {
  const out = Buffer.alloc(10);
  out[0] = 0xa1; // device-to-host, class, interface
  out[1] = CDC_NOTIFY_SERIAL_STATE;
  out.writeUInt16LE(0, 2);
  out.writeUInt16LE(interfaceNumber, 4);
  out.writeUInt16LE(2, 6);
  out.writeUInt16LE(serialStateBits(s), 8);
  return out;
}

/** Which host drivers a layout is built for (see the module comment). */
export type SerialLayout = 'functionfs' | 'genericusbfn';

/** The default endpoints: notification interrupt IN 0x83 (16-byte packets hold a whole SERIAL_STATE), bulk IN 0x81, bulk OUT 0x02. */
function serialEndpoints(): EndpointDeclaration[] {
  const bulk = { full: 64, high: 512, super: 1024 };
  return [
    { address: 0x83, type: 'interrupt', maxPacketSize: { full: 16, high: 16, super: 16 }, interval: 4 },
    { address: 0x81, type: 'bulk', maxPacketSize: bulk, interval: 0 },
    { address: 0x02, type: 'bulk', maxPacketSize: bulk, interval: 0 },
  ];
}

/** CDC Header functional descriptor (bcdCDC 1.10) and ACM functional descriptor (SET/GET_LINE_CODING, SET_CONTROL_LINE_STATE, SEND_BREAK). */
const CDC_HEADER = Uint8Array.of(5, 0x24, 0x00, 0x10, 0x01);
const CDC_ACM = Uint8Array.of(4, 0x24, 0x02, 0x06);
/** USB_DT_OTG with no HNP/SRP: the one non-0x24 extra descriptor FunctionFS accepts after an interface. */
const OTG_NO_HNP_SRP = Uint8Array.of(3, 0x09, 0x00);

/** Options of serialInterfaceDeclaration(). */
export interface SerialDeclarationOptions {
  layout?: SerialLayout;
  name?: string;
  interfaceGuid?: string;
}

/** The GUID `usbfn windows-config --function serial` declares unless told otherwise. */
export const DEFAULT_SERIAL_GUID = '{5C9A3E1B-7D2F-4A86-B0C4-1E8F6D2A9B37}';

/** The CDC-ACM function as a InterfaceDeclaration, for one host layout (default 'genericusbfn'). */
export function serialInterfaceDeclaration(options: SerialDeclarationOptions = {}): InterfaceDeclaration {
  const layout = options.layout ?? 'genericusbfn';
  if (layout !== 'functionfs' && layout !== 'genericusbfn') {
    throw new UsbFnError(ErrorCodes.INVALID_ARG, `layout must be 'functionfs' or 'genericusbfn', got ${String(layout)}`);
  }
  return {
    name: options.name ?? 'usbfn_serial',
    interfaceGuid: options.interfaceGuid ?? DEFAULT_SERIAL_GUID,
    interfaceClass: [0x02, 0x02, 0x01],
    classDescriptors: layout === 'functionfs' ? [OTG_NO_HNP_SRP] : [CDC_HEADER, CDC_ACM],
    endpoints: serialEndpoints(),
    notes: layout === 'functionfs'
      ? [
          'Linux cdc_acm: single interface, 3 endpoints, no union: the "castrated device" path (needs a non-empty extra descriptor: the OTG one). Proven in the VM (Linux 6.1.0-57, no new_id).',
          'FunctionFS (Linux 6.1) rejects CDC class-specific 0x24 descriptors with EINVAL, hence none here.',
          'With no ACM descriptor cdc_acm refuses breaks (TIOCSBRK/TIOCCBRK: EOPNOTSUPP, measured on Linux 6.1.0-57), which also fails npm serialport\'s set(); toggle DTR with TIOCMBIS/TIOCMBIC.',
        ]
      : [
          'Windows usbser.sys: binds by compatible ID USB\\Class_02&SubClass_02&Prot_01; a single-interface ACM function is unproven (a custom INF naming usbser.sys is the fallback).',
          'Linux cdc_acm: single interface, 3 endpoints, header + ACM descriptors, no union: the single-interface path.',
          'macOS: AppleUSBCDCACMData expects a separate data interface (union descriptor): unproven.',
        ],
  };
}
