/**
 * A declarative, backend-neutral description of one USB function interface: what the Windows
 * registry declares for GenericUSBFn.sys (InterfaceDescriptor, InterfaceGUID), what a FunctionFS
 * descriptor blob holds, and what the emulator is configured with. The serial function and the
 * `usbfn windows-config` / `--emulate` CLI paths all derive their bytes from one of these, so
 * the three cannot drift apart.
 *
 * Who calls it: lib/protocols/cdc-acm.ts (the CDC-ACM layouts), lib/cli. Pure data and byte
 * building: no I/O, no native code. It adds to the driver-level function description what a
 * host OS needs declared: the registry name and GUID, and class descriptors placed before the
 * endpoints.
 */
import { ErrorCodes, UsbFnError } from '../errors.js';
import type { EmulatorOptions, EmulatedEndpointConfig } from '../driver/emulator/options.js';

/** One data endpoint (EP0 is implicit). */
export interface EndpointDeclaration {
  /** bEndpointAddress: bit 7 = IN (device to host), bits 0–3 = number 1..15. */
  address: number;
  type: 'bulk' | 'interrupt';
  /** wMaxPacketSize per speed. */
  maxPacketSize: { full: number; high: number; super: number };
  /** bInterval (ignored by hosts for bulk). */
  interval: number;
}

/** One interface of a USB function, with everything a backend needs to declare it. */
export interface InterfaceDeclaration {
  /** Registry key name under USBFN\Interfaces, and the class info's InterfaceName (≤ 40 units). */
  name: string;
  /** The device interface GUID a user-mode service opens, '{…}' form (38 characters). */
  interfaceGuid: string;
  /** bInterfaceClass, bInterfaceSubClass, bInterfaceProtocol. */
  interfaceClass: [number, number, number];
  /**
   * Descriptors that follow the interface descriptor, before the endpoints (each complete with
   * its bLength): where CDC functional descriptors belong, and where a host's usbcore files them
   * as the interface's own extra bytes (cdc_acm reads them there).
   */
  classDescriptors: Uint8Array[];
  endpoints: EndpointDeclaration[];
  /** What each host's stock driver needs from this layout, and what is proven: printed by the CLI. */
  notes?: string[];
}

/** The speeds with their own descriptor sets. */
export type DeclarationSpeed = 'full' | 'high' | 'super';

const GUID_RE = /^\{[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\}$/;

const invalid = (message: string) => new UsbFnError(ErrorCodes.INVALID_ARG, message, { operation: 'InterfaceDeclaration' });

/** Throws USBFN_ERR_INVALID_ARG when the description cannot be declared to any backend. */
export function validateDeclaration(d: InterfaceDeclaration): void {
  if (!/^[A-Za-z0-9_.-]{1,40}$/.test(d.name)) throw invalid(`name must be 1..40 letters, digits, '_', '.' or '-' (a registry key name), got ${JSON.stringify(d.name)}`);
  if (!GUID_RE.test(d.interfaceGuid)) throw invalid(`interfaceGuid must look like {12345678-1234-1234-1234-123456789ABC}, got ${JSON.stringify(d.interfaceGuid)}`);
  if (d.interfaceClass.some((v) => !Number.isInteger(v) || v < 0 || v > 255)) throw invalid('interfaceClass holds three bytes');
  if (d.endpoints.length === 0 || d.endpoints.length > 15) throw invalid('an interface has 1..15 data endpoints');
  const addresses = new Set<number>();
  for (const e of d.endpoints) {
    if ((e.address & 0x0f) === 0 || (e.address & 0x70) !== 0 || e.address > 0xff) throw invalid(`endpoint address 0x${e.address.toString(16)} is not IN/OUT 1..15`);
    if (addresses.has(e.address)) throw invalid(`endpoint 0x${e.address.toString(16)} appears twice`);
    addresses.add(e.address);
  }
  for (const c of d.classDescriptors) {
    if (c.length < 2 || c[0] !== c.length) throw invalid('every class descriptor must start with its own length (bLength)');
  }
}

/** USB_INTERFACE_DESCRIPTOR (9 bytes). bInterfaceNumber and iInterface are filled in by the function stack on Windows. */
export function interfaceDescriptor(d: InterfaceDeclaration, interfaceNumber = 0): Uint8Array {
  const [cls, sub, proto] = d.interfaceClass;
  return Uint8Array.of(9, 0x04, interfaceNumber, 0, d.endpoints.length, cls, sub, proto, 0);
}

/** USB_ENDPOINT_DESCRIPTOR (7 bytes) at `speed`. */
export function endpointDescriptor(e: EndpointDeclaration, speed: DeclarationSpeed): Uint8Array {
  const mps = e.maxPacketSize[speed];
  return Uint8Array.of(7, 0x05, e.address, e.type === 'bulk' ? 2 : 3, mps & 0xff, mps >> 8, e.type === 'bulk' ? 0 : e.interval);
}

/**
 * The interface's descriptor set at one speed, in wire order: interface, class descriptors,
 * endpoints. This is the registry's InterfaceDescriptor value (high speed) and what FunctionFS
 * and GET_INTERFACE_DESCRIPTOR_SET carry.
 */
export function descriptorSet(d: InterfaceDeclaration, speed: DeclarationSpeed = 'high'): Uint8Array {
  validateDeclaration(d);
  const parts = [interfaceDescriptor(d), ...d.classDescriptors, ...d.endpoints.map((e) => endpointDescriptor(e, speed))];
  return Buffer.concat(parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength)));
}

/**
 * The emulator options that present this interface (usbfn/emulator), for tests and `--emulate`.
 * The emulator appends class descriptors after the endpoints (its own placement; hosts in this
 * process do not parse them).
 */
export function emulatorOptionsFor(d: InterfaceDeclaration): EmulatorOptions {
  validateDeclaration(d);
  const endpoints: EmulatedEndpointConfig[] = d.endpoints.map((e) => ({
    address: e.address,
    type: e.type,
    maxPacketSize: { ...e.maxPacketSize },
    interval: e.type === 'interrupt' ? e.interval : 0,
  }));
  return {
    interfaceName: d.name,
    interfaceGuid: d.interfaceGuid,
    interfaceClass: [...d.interfaceClass],
    endpoints,
    extraDescriptors: Buffer.concat(d.classDescriptors.map((c) => Buffer.from(c))),
  };
}

/**
 * The driver-level function description the FunctionFS backend takes (`functionfs.function`):
 * class, endpoints, and the class descriptors as its extra bytes, which that backend writes
 * between the interface descriptor and its first endpoint (where cdc_acm looks for them).
 */
export function toFunctionDescription(d: InterfaceDeclaration): Record<string, unknown> {
  const { interfaceClass, endpoints, extraDescriptors } = emulatorOptionsFor(d);
  return { interfaceClass, endpoints, extraDescriptors };
}

/** A bulk IN + bulk OUT vendor interface (class 0xFF): the message channel's and `loopback`'s layout. */
export function vendorBulkDeclaration(name = 'usbfn_bulk', interfaceGuid = '{8A5D1D72-5E6B-4B1C-9E1F-3C0D2B7A6E15}'): InterfaceDeclaration {
  const bulk = (address: number): EndpointDeclaration => ({ address, type: 'bulk', maxPacketSize: { full: 64, high: 512, super: 1024 }, interval: 0 });
  return {
    name,
    interfaceGuid,
    interfaceClass: [0xff, 0x00, 0x00],
    classDescriptors: [],
    endpoints: [bulk(0x81), bulk(0x01)],
    notes: [
      'Vendor class 0xFF: no stock host driver binds. Linux hosts use libusb (or node-usb); Windows hosts need WinUSB, bound by an INF or by MS OS descriptors (compatible ID WINUSB).',
    ],
  };
}
