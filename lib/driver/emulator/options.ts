/**
 * Configuration of the emulated GenericUSBFn.sys interface: what the Windows registry declares
 * for a real one (pipes, packet sizes, name, GUID), plus one named option per question the spec
 * leaves open (IOCTL details, EP0 handshakes, struct size fields), each with a documented default.
 */
import { UsbFnError, ErrorCodes } from '../../errors.js';
import { checkOptions, describe } from '../../validate.js';
import type { BusSpeed } from '../driver.js';
import {
  DESCRIPTOR_SPEEDS, resolveFunction, resolvePacketSizes,
  type DescriptorSpeed, type EndpointDescription, type FunctionDescription, type PacketSizes, type ResolvedEndpoint,
} from '../function-description.js';
import type { LinkModelOptions } from './link-model.js';
import type { InterfaceInfoSizeMode } from '../../../native-defs/codec.js';
import { MAX_NUM_USBFN_ENDPOINTS, MAX_INTERFACE_NAME_LENGTH, MAX_INTERFACE_GUID_LENGTH } from '../../../native-defs/layout.js';

/** One data endpoint of the interface (the backend-neutral EndpointDescription). */
export type EmulatedEndpointConfig = EndpointDescription;
export type { PacketSizes };

/**
 * Everything configurable about the emulator; every field is optional. The function itself
 * (class, endpoints, extra descriptors) is the backend-neutral FunctionDescription, so the same
 * definition opens on FunctionFS.
 */
export interface EmulatorOptions extends FunctionDescription {
  /** bInterfaceNumber and the class info's InterfaceNumber. Default 0. */
  interfaceNumber?: number;
  /** InterfaceName of the class information packet (≤ 40 UTF-16 units). Default 'usbfn'. */
  interfaceName?: string;
  /** InterfaceGuid (≤ 39 units, usually the 38-char '{…}' form); null = HasInterfaceGuid FALSE. Default DEFAULT_INTERFACE_GUID. */
  interfaceGuid?: string | null;
  /** EP0's wMaxPacketSize (PipeArr[0], pipe id 0). Default 64 / 64 / 512. */
  ep0MaxPacketSize?: PacketSizes;
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
  /**
   * Modelled bus time on the data pipes (link-model.ts). 'instant' (default): no time is kept,
   * packets move as soon as both ends are ready. 'timed': each data pipe keeps a modelled clock
   * at the enumerated speed's bulk rate (high speed 53.248 MB/s, SuperSpeed 474.9 MB/s payload),
   * read with `linkStats()`; `{ model: 'timed', turnaroundUs }` adds the device's modelled
   * turnaround from a completion to its next transfer. Data moves exactly as with 'instant'.
   */
  link?: 'instant' | 'timed' | LinkModelOptions;
}

/** The GUID reported when `interfaceGuid` is not given (38 characters, braces included). */
export const DEFAULT_INTERFACE_GUID = '{8A5D1D72-5E6B-4B1C-9E1F-3C0D2B7A6E15}';

export { DESCRIPTOR_SPEEDS, type DescriptorSpeed, type ResolvedEndpoint };

/** The speed whose packet sizes apply on a link of `speed`. */
export function descriptorSpeed(speed: BusSpeed): DescriptorSpeed {
  return speed === 'low' ? 'full' : speed;
}

/** EmulatorOptions with every default filled in (EmulatedGenericUsbFn.options). */
export type ResolvedOptions = Required<Omit<EmulatorOptions, 'endpoints' | 'ep0MaxPacketSize' | 'extraDescriptors' | 'interfaceClass' | 'interfaceString' | 'msOs' | 'link'>> & {
  link: Required<LinkModelOptions>;
  endpoints: ResolvedEndpoint[];
  ep0MaxPacketSize: Record<DescriptorSpeed, number>;
  interfaceClass: [number, number, number];
  extraDescriptors: Uint8Array;
};

const invalid = (message: string) => new UsbFnError(ErrorCodes.INVALID_ARG, message, { operation: 'EmulatedGenericUsbFn' });

/** Every EmulatorOptions key: anything else is a typo, refused with a suggestion. */
const EMULATOR_OPTION_KEYS = [
  'interfaceNumber', 'interfaceName', 'interfaceGuid', 'endpoints', 'ep0MaxPacketSize', 'interfaceClass', 'extraDescriptors',
  'interfaceString', 'msOs', 'interfaceInfoSizeMode', 'transferInBytesReturned', 'pipeStateBuffer', 'forwardVendorRequests',
  'registerStringBeforeActivate', 'noDataStatusStage', 'controlTimeoutMs', 'eventQueueLimit', 'link',
] as const;

function resolveLink(link: EmulatorOptions['link']): Required<LinkModelOptions> {
  const o = typeof link === 'string' || link === undefined ? { model: link ?? 'instant' } : link;
  if (typeof o !== 'object' || o === null) throw invalid(`link must be 'instant', 'timed' or { model, turnaroundUs }, got ${describe(link)}`);
  checkOptions('EmulatedGenericUsbFn link', o, ['model', 'turnaroundUs']);
  if (o.model !== 'instant' && o.model !== 'timed') throw invalid(`link.model must be 'instant' or 'timed', got ${describe(o.model)}`);
  const turnaroundUs = (o as LinkModelOptions).turnaroundUs ?? 0;
  if (typeof turnaroundUs !== 'number' || !(turnaroundUs >= 0) || !Number.isFinite(turnaroundUs)) throw invalid(`link.turnaroundUs must be a finite number ≥ 0, got ${describe(turnaroundUs)}`);
  return { model: o.model, turnaroundUs };
}

/** Fills in every default and validates the configuration; throws USBFN_ERR_INVALID_ARG. */
export function resolveOptions(o: EmulatorOptions = {}): ResolvedOptions {
  checkOptions('EmulatedGenericUsbFn', o, EMULATOR_OPTION_KEYS);
  if (o.endpoints !== undefined && !Array.isArray(o.endpoints)) throw invalid(`endpoints must be an array, got ${describe(o.endpoints)}`);
  const fn = resolveFunction(o, MAX_NUM_USBFN_ENDPOINTS);
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
    endpoints: fn.endpoints,
    ep0MaxPacketSize: resolvePacketSizes(o.ep0MaxPacketSize, { full: 64, high: 64, super: 512 }, 'EP0'),
    interfaceClass: fn.interfaceClass,
    extraDescriptors: fn.extraDescriptors,
    interfaceInfoSizeMode: o.interfaceInfoSizeMode ?? 'payload',
    transferInBytesReturned: o.transferInBytesReturned ?? 'length',
    pipeStateBuffer: o.pipeStateBuffer ?? 'atLeast',
    forwardVendorRequests: o.forwardVendorRequests ?? true,
    registerStringBeforeActivate: o.registerStringBeforeActivate ?? true,
    noDataStatusStage: o.noDataStatusStage ?? 'either',
    controlTimeoutMs: o.controlTimeoutMs ?? 5000,
    eventQueueLimit: Math.max(1, o.eventQueueLimit ?? 256),
    link: resolveLink(o.link),
  };
}
