/**
 * Configuration of the emulated GenericUSBFn.sys interface: what the Windows registry declares
 * for a real one (pipes, packet sizes, name, GUID), plus one named option per question the spec
 * leaves open (IOCTL details, EP0 handshakes, struct size fields), each with a documented default.
 */
import { UsbFnError, ErrorCodes } from '../../errors.js';
import { checkOptions, describe } from '../../validate.js';
import type { BusSpeed } from '../driver.js';
import type { InterfaceInfoSizeMode } from '../../../native-defs/codec.js';
import { MAX_NUM_USBFN_ENDPOINTS, MAX_INTERFACE_NAME_LENGTH, MAX_INTERFACE_GUID_LENGTH } from '../../../native-defs/layout.js';

/** wMaxPacketSize per speed. Low speed uses the full-speed value (the emulator does not model low-speed limits). */
export interface PacketSizes {
  full?: number;
  high?: number;
  super?: number;
}

/** One data endpoint of the interface, as the registry's endpoint descriptors would declare it. */
export interface EmulatedEndpointConfig {
  /** bEndpointAddress: bit 7 set = IN (device to host), bits 0–3 = number 1..15. E.g. 0x81, 0x01. */
  address: number;
  /** Transfer type. Default 'bulk'. Interrupt endpoints move data exactly like bulk ones (no polling interval is modelled). */
  type?: 'bulk' | 'interrupt';
  /** Default 64 / 512 / 1024 (full / high / super), for both types. */
  maxPacketSize?: PacketSizes;
  /** bInterval in the descriptors. Default 0 for bulk, 1 for interrupt. */
  interval?: number;
}

/** Everything configurable about the emulator; every field is optional. */
export interface EmulatorOptions {
  /** bInterfaceNumber and the class info's InterfaceNumber. Default 0. */
  interfaceNumber?: number;
  /** InterfaceName of the class information packet (≤ 40 UTF-16 units). Default 'usbfn'. */
  interfaceName?: string;
  /** InterfaceGuid (≤ 39 units, usually the 38-char '{…}' form); null = HasInterfaceGuid FALSE. Default DEFAULT_INTERFACE_GUID. */
  interfaceGuid?: string | null;
  /** Data endpoints; pipe ids 1, 2, 3… in this order at every speed. Default: bulk IN 0x81 and bulk OUT 0x01. */
  endpoints?: EmulatedEndpointConfig[];
  /** EP0's wMaxPacketSize (PipeArr[0], pipe id 0). Default 64 / 64 / 512. */
  ep0MaxPacketSize?: PacketSizes;
  /** bInterfaceClass, bInterfaceSubClass, bInterfaceProtocol of the generated descriptor set. Default vendor [0xff, 0, 0]. */
  interfaceClass?: [number, number, number];
  /** Class-specific descriptor bytes appended after the generated interface + endpoint descriptors. */
  extraDescriptors?: Uint8Array;
  /** Open question: what USBFN_INTERFACE_INFO.Size counts. 'payload' (default) = descriptor bytes only; 'total' = plus the 10 header bytes. */
  interfaceInfoSizeMode?: InterfaceInfoSizeMode;
  /** Open question: lpBytesReturned after a successful TRANSFER_IN. 'length' (default) = bytes sent; 'zero' = 0. */
  transferInBytesReturned?: 'length' | 'zero';
  /** Open question: GET_PIPE_STATE's output. 'atLeast' (default) accepts ≥ 1 byte (writes 1); 'exact' refuses anything but 1 byte with 87. */
  pipeStateBuffer?: 'exact' | 'atLeast';
  /** Open question: vendor-type setup packets become SetupPacket events (true, default) or are stalled by the emulator (false). */
  forwardVendorRequests?: boolean;
  /** Open question: REGISTER_USB_STRING before ACTIVATE is allowed (true, default: Microsoft's NCM driver does it) or refused with 22. */
  registerStringBeforeActivate?: boolean;
  /** Open question: which status handshake ends a request without data stage. Default 'either'. The header's comment says 'out', USB 2.0 says 'in'. */
  noDataStatusStage?: 'out' | 'in' | 'either';
  /** How long the simulated host waits for the device to finish a forwarded control request. Default 5000 ms. */
  controlTimeoutMs?: number;
  /** Bus events kept while no BUS_EVENT_NOTIFICATION is pending; past it the oldest is dropped (see EmulatedGenericUsbFn.droppedEvents). Default 256. */
  eventQueueLimit?: number;
}

/** The GUID reported when `interfaceGuid` is not given (38 characters, braces included). */
export const DEFAULT_INTERFACE_GUID = '{8A5D1D72-5E6B-4B1C-9E1F-3C0D2B7A6E15}';

/** The three speeds with their own descriptors; low speed shares full speed's. */
export type DescriptorSpeed = 'full' | 'high' | 'super';
/** The speeds in class-info order. */
export const DESCRIPTOR_SPEEDS: readonly DescriptorSpeed[] = ['full', 'high', 'super'];

/** The speed whose packet sizes apply on a link of `speed`. */
export function descriptorSpeed(speed: BusSpeed): DescriptorSpeed {
  return speed === 'low' ? 'full' : speed;
}

/** A data endpoint with every default filled in and its pipe id assigned. */
export interface ResolvedEndpoint {
  pipeId: number;
  address: number;
  isIn: boolean;
  type: 'bulk' | 'interrupt';
  maxPacketSize: Record<DescriptorSpeed, number>;
  interval: number;
}

/** EmulatorOptions with every default filled in (EmulatedGenericUsbFn.options). */
export type ResolvedOptions = Required<Omit<EmulatorOptions, 'endpoints' | 'ep0MaxPacketSize' | 'extraDescriptors' | 'interfaceClass'>> & {
  endpoints: ResolvedEndpoint[];
  ep0MaxPacketSize: Record<DescriptorSpeed, number>;
  interfaceClass: [number, number, number];
  extraDescriptors: Uint8Array;
};

const invalid = (message: string) => new UsbFnError(ErrorCodes.INVALID_ARG, message, { operation: 'EmulatedGenericUsbFn' });

function packetSizes(given: PacketSizes | undefined, defaults: Record<DescriptorSpeed, number>, what: string): Record<DescriptorSpeed, number> {
  const out = { ...defaults, ...given };
  for (const speed of DESCRIPTOR_SPEEDS) {
    const n = out[speed];
    if (!Number.isInteger(n) || n < 1 || n > 1024) throw invalid(`${what} ${speed}-speed max packet size must be 1..1024, got ${n}`);
  }
  return out;
}

/** Every EmulatorOptions key: anything else is a typo, refused with a suggestion. */
const EMULATOR_OPTION_KEYS = [
  'interfaceNumber', 'interfaceName', 'interfaceGuid', 'endpoints', 'ep0MaxPacketSize', 'interfaceClass', 'extraDescriptors',
  'interfaceInfoSizeMode', 'transferInBytesReturned', 'pipeStateBuffer', 'forwardVendorRequests', 'registerStringBeforeActivate',
  'noDataStatusStage', 'controlTimeoutMs', 'eventQueueLimit',
] as const;

function resolveEndpoint(e: EmulatedEndpointConfig, index: number): ResolvedEndpoint {
  checkOptions('EmulatedGenericUsbFn', e, ['address', 'type', 'maxPacketSize', 'interval']);
  if (!Number.isInteger(e?.address)) throw invalid(`endpoints[${index}].address must be an endpoint address such as 0x81 (IN) or 0x01 (OUT), got ${describe(e?.address)}`);
  const number = e.address & 0x0f;
  if (!Number.isInteger(e.address) || (e.address & 0x70) !== 0 || e.address > 0xff || number === 0) {
    throw invalid(`endpoint address 0x${e.address.toString(16)} is not IN/OUT 1..15`);
  }
  const type = e.type ?? 'bulk';
  if (type !== 'bulk' && type !== 'interrupt') throw invalid(`endpoint 0x${e.address.toString(16)} has unsupported type ${type}`);
  return {
    pipeId: index + 1,
    address: e.address,
    isIn: (e.address & 0x80) !== 0,
    type,
    maxPacketSize: packetSizes(e.maxPacketSize, { full: 64, high: 512, super: 1024 }, `endpoint 0x${e.address.toString(16)}`),
    interval: e.interval ?? (type === 'interrupt' ? 1 : 0),
  };
}

/** Fills in every default and validates the configuration; throws USBFN_ERR_INVALID_ARG. */
export function resolveOptions(o: EmulatorOptions = {}): ResolvedOptions {
  checkOptions('EmulatedGenericUsbFn', o, EMULATOR_OPTION_KEYS);
  if (o.endpoints !== undefined && !Array.isArray(o.endpoints)) throw invalid(`endpoints must be an array, got ${describe(o.endpoints)}`);
  const endpoints = (o.endpoints ?? [{ address: 0x81 }, { address: 0x01 }]).map(resolveEndpoint);
  if (endpoints.length > MAX_NUM_USBFN_ENDPOINTS) throw invalid(`at most ${MAX_NUM_USBFN_ENDPOINTS} data endpoints, got ${endpoints.length}`);
  if (new Set(endpoints.map((e) => e.address)).size !== endpoints.length) throw invalid('endpoint addresses must be unique');
  const name = o.interfaceName ?? 'usbfn';
  if (name.length > MAX_INTERFACE_NAME_LENGTH) throw invalid(`interfaceName holds at most ${MAX_INTERFACE_NAME_LENGTH} UTF-16 units`);
  const guid = o.interfaceGuid === undefined ? DEFAULT_INTERFACE_GUID : o.interfaceGuid;
  if (guid !== null && guid.length > MAX_INTERFACE_GUID_LENGTH) throw invalid(`interfaceGuid holds at most ${MAX_INTERFACE_GUID_LENGTH} UTF-16 units`);
  const interfaceNumber = o.interfaceNumber ?? 0;
  if (!Number.isInteger(interfaceNumber) || interfaceNumber < 0 || interfaceNumber > 255) throw invalid('interfaceNumber must be 0..255');
  return {
    interfaceNumber,
    interfaceName: name,
    interfaceGuid: guid,
    endpoints,
    ep0MaxPacketSize: packetSizes(o.ep0MaxPacketSize, { full: 64, high: 64, super: 512 }, 'EP0'),
    interfaceClass: o.interfaceClass ?? [0xff, 0, 0],
    extraDescriptors: o.extraDescriptors ?? new Uint8Array(0),
    interfaceInfoSizeMode: o.interfaceInfoSizeMode ?? 'payload',
    transferInBytesReturned: o.transferInBytesReturned ?? 'length',
    pipeStateBuffer: o.pipeStateBuffer ?? 'atLeast',
    forwardVendorRequests: o.forwardVendorRequests ?? true,
    registerStringBeforeActivate: o.registerStringBeforeActivate ?? true,
    noDataStatusStage: o.noDataStatusStage ?? 'either',
    controlTimeoutMs: o.controlTimeoutMs ?? 5000,
    eventQueueLimit: Math.max(1, o.eventQueueLimit ?? 256),
  };
}
