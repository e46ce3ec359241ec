/**
 * One declarative description of a USB function (one interface: class triple, data endpoints
 * with per-speed packet sizes, interface string, optional MS OS descriptors), accepted by every
 * backend: the emulator (EmulatorOptions extends it) and FunctionFS (which turns it into the
 * descriptors/strings blobs it writes to ep0). One device definition runs on both.
 *
 * Pipe ids follow the endpoint order: the first endpoint is pipe 1 (FunctionFS's `ep1`), the
 * second pipe 2, and so on; pipe 0 is EP0.
 */
import { UsbFnError, ErrorCodes } from '../errors.js';
import { checkOptions, describe } from '../validate.js';
import { USB_ENDPOINT_DESCRIPTOR_TYPE, USB_ENDPOINT_TYPE_BULK, USB_ENDPOINT_TYPE_INTERRUPT, USB_INTERFACE_DESCRIPTOR_TYPE } from '../../native-defs/enums.js';

/** wMaxPacketSize per speed. Low speed uses the full-speed value. */
export interface PacketSizes {
  full?: number;
  high?: number;
  super?: number;
}

/** One data endpoint of the function. */
export interface EndpointDescription {
  /** bEndpointAddress: bit 7 set = IN (device to host), bits 0–3 = number 1..15. E.g. 0x81, 0x01. */
  address: number;
  /** Transfer type. Default 'bulk'. */
  type?: 'bulk' | 'interrupt';
  /** Default 64 / 512 / 1024 (full / high / super), for both types. */
  maxPacketSize?: PacketSizes;
  /** bInterval in the descriptors. Default 0 for bulk, 1 for interrupt. */
  interval?: number;
}

/**
 * MS OS 1.0 extended compat ID, so a Windows host binds a driver (WinUSB) without an INF.
 * FunctionFS only: the emulator ignores it. The gadget must also enable os_desc in configfs
 * (createGadget does when a function asks for it).
 */
export interface MsOsDescription {
  /** Up to 8 ASCII characters, e.g. 'WINUSB'. */
  compatibleId: string;
  /** Up to 8 ASCII characters; default empty. */
  subCompatibleId?: string;
}

/** The backend-neutral function description; every field is optional. */
export interface FunctionDescription {
  /** bInterfaceClass, bInterfaceSubClass, bInterfaceProtocol. Default vendor [0xff, 0, 0]. */
  interfaceClass?: [number, number, number];
  /** Data endpoints; pipe ids 1, 2, 3… in this order. Default: bulk IN 0x81 and bulk OUT 0x01. */
  endpoints?: EndpointDescription[];
  /**
   * Class-specific (or other extra) descriptor bytes of the interface. FunctionFS writes them
   * between the interface descriptor and its first endpoint, where USB puts class descriptors and
   * host drivers such as Linux cdc_acm look for them; the emulator appends them after the
   * endpoints. FunctionFS (through at least Linux 6.1) rejects class-specific descriptors other
   * than HID, CCID and DFU with EINVAL when the descriptors are written.
   */
  extraDescriptors?: Uint8Array;
  /** The interface string (iInterface). FunctionFS writes it as string 1; the emulator ignores it. */
  interfaceString?: string;
  /** MS OS extended compat ID (FunctionFS only). */
  msOs?: MsOsDescription;
}

/** The three speeds with their own descriptors; low speed shares full speed's. */
export type DescriptorSpeed = 'full' | 'high' | 'super';
/** The speeds in descriptor / class-info order. */
export const DESCRIPTOR_SPEEDS: readonly DescriptorSpeed[] = ['full', 'high', 'super'];

/** A data endpoint with every default filled in and its pipe id assigned. */
export interface ResolvedEndpoint {
  pipeId: number;
  address: number;
  isIn: boolean;
  type: 'bulk' | 'interrupt';
  maxPacketSize: Record<DescriptorSpeed, number>;
  interval: number;
}

/** A FunctionDescription with every default filled in. */
export interface ResolvedFunction {
  interfaceClass: [number, number, number];
  endpoints: ResolvedEndpoint[];
  extraDescriptors: Uint8Array;
  interfaceString: string | null;
  msOs: Required<MsOsDescription> | null;
}

/** The USB limit on data endpoints of one interface (15 IN + 15 OUT). */
export const MAX_DATA_ENDPOINTS = 30;

const invalid = (message: string) => new UsbFnError(ErrorCodes.INVALID_ARG, message, { operation: 'function description' });

/** Fills in per-speed packet sizes and checks each is 1..1024. */
export function resolvePacketSizes(given: PacketSizes | undefined, defaults: Record<DescriptorSpeed, number>, what: string): Record<DescriptorSpeed, number> {
  const out = { ...defaults, ...given };
  for (const speed of DESCRIPTOR_SPEEDS) {
    const n = out[speed];
    if (!Number.isInteger(n) || n < 1 || n > 1024) throw invalid(`${what} ${speed}-speed max packet size must be 1..1024, got ${n}`);
  }
  return out;
}

function resolveEndpoint(e: EndpointDescription, index: number): ResolvedEndpoint {
  checkOptions('function description', e, ['address', 'type', 'maxPacketSize', 'interval']);
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
    maxPacketSize: resolvePacketSizes(e.maxPacketSize, { full: 64, high: 512, super: 1024 }, `endpoint 0x${e.address.toString(16)}`),
    interval: e.interval ?? (type === 'interrupt' ? 1 : 0),
  };
}

function resolveMsOs(m: MsOsDescription | undefined): Required<MsOsDescription> | null {
  if (m === undefined) return null;
  const ascii8 = (s: string, what: string) => {
    if (typeof s !== 'string' || s.length > 8 || !/^[\x20-\x7e]*$/.test(s)) throw invalid(`msOs.${what} must be at most 8 printable ASCII characters`);
    return s;
  };
  return { compatibleId: ascii8(m.compatibleId, 'compatibleId'), subCompatibleId: ascii8(m.subCompatibleId ?? '', 'subCompatibleId') };
}

/** Fills in every default and validates; throws USBFN_ERR_INVALID_ARG. */
export function resolveFunction(d: FunctionDescription = {}, maxEndpoints = MAX_DATA_ENDPOINTS): ResolvedFunction {
  const endpoints = (d.endpoints ?? [{ address: 0x81 }, { address: 0x01 }]).map(resolveEndpoint);
  if (endpoints.length > maxEndpoints) throw invalid(`at most ${maxEndpoints} data endpoints, got ${endpoints.length}`);
  if (new Set(endpoints.map((e) => e.address)).size !== endpoints.length) throw invalid('endpoint addresses must be unique');
  const cls = d.interfaceClass ?? [0xff, 0, 0];
  if (!Array.isArray(cls) || cls.length !== 3 || cls.some((v) => !Number.isInteger(v) || v < 0 || v > 255)) throw invalid('interfaceClass must be three bytes');
  if (d.interfaceString !== undefined && (typeof d.interfaceString !== 'string' || d.interfaceString.length > 126)) {
    throw invalid('interfaceString must be a string of at most 126 UTF-16 units');
  }
  return {
    interfaceClass: cls,
    endpoints,
    extraDescriptors: d.extraDescriptors ?? new Uint8Array(0),
    interfaceString: d.interfaceString ?? null,
    msOs: resolveMsOs(d.msOs),
  };
}

/** bDescriptorType of the SuperSpeed endpoint companion descriptor (USB 3.x §9.6.7). */
const SS_ENDPOINT_COMPANION_TYPE = 0x30;

/** Where the interface sits: its number and string index (0 = no string), and where its extra descriptors go. */
export interface InterfacePlacement {
  interfaceNumber: number;
  iInterface: number;
  /**
   * 'afterInterface' (USB's place for class descriptors, where hosts parse them: FunctionFS) or
   * 'afterEndpoints' (the emulator's own placement). Default 'afterInterface'.
   */
  extra?: 'afterInterface' | 'afterEndpoints';
}

/**
 * The interface descriptor, then each endpoint descriptor (at super speed each followed by its
 * SuperSpeed companion, which USB 3 requires), with `extraDescriptors` as given either right
 * after the interface descriptor (default) or after the last endpoint (`at.extra`).
 */
export function interfaceDescriptors(f: ResolvedFunction, speed: DescriptorSpeed, at: InterfacePlacement): Uint8Array {
  const companion = speed === 'super' ? 6 : 0;
  const extraLast = at.extra === 'afterEndpoints';
  const out = new Uint8Array(9 + f.endpoints.length * (7 + companion) + f.extraDescriptors.length);
  const [cls, sub, proto] = f.interfaceClass;
  out.set([9, USB_INTERFACE_DESCRIPTOR_TYPE, at.interfaceNumber, 0, f.endpoints.length, cls, sub, proto, at.iInterface]);
  let offset = 9;
  if (!extraLast) {
    out.set(f.extraDescriptors, offset);
    offset += f.extraDescriptors.length;
  }
  for (const e of f.endpoints) {
    const mps = e.maxPacketSize[speed];
    const attributes = e.type === 'bulk' ? USB_ENDPOINT_TYPE_BULK : USB_ENDPOINT_TYPE_INTERRUPT;
    out.set([7, USB_ENDPOINT_DESCRIPTOR_TYPE, e.address, attributes, mps & 0xff, mps >> 8, e.interval], offset);
    offset += 7;
    if (companion) {
      // bMaxBurst 0, bmAttributes 0; wBytesPerInterval only means something for periodic endpoints.
      const perInterval = e.type === 'interrupt' ? mps : 0;
      out.set([6, SS_ENDPOINT_COMPANION_TYPE, 0, 0, perInterval & 0xff, perInterval >> 8], offset);
      offset += 6;
    }
  }
  if (extraLast) out.set(f.extraDescriptors, offset);
  return out;
}
