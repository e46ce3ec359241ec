/**
 * Encoders and decoders between the byte layouts of structs.ts and plain objects, on
 * Buffer/DataView (cheap enough for hot paths). Little-endian, as on every Windows target.
 *
 * Decoders never read past the bytes they are given and reject what a well-behaved driver could
 * not have produced (a PipeCount above 16, a truncated struct) with a CodecError naming the field;
 * the driver layer turns that into a coded UsbFnError.
 */
import { LAYOUT as L, MAX_NUM_USBFN_PIPES, MAX_INTERFACE_NAME_LENGTH, MAX_INTERFACE_GUID_LENGTH, MAX_USB_STRING_LENGTH } from './structs.js';
import { UsbFnEvent } from './enums.js';

/** Malformed or out-of-range struct data; `field` names the C member at fault. */
export class CodecError extends RangeError {
  constructor(message: string, readonly field: string) {
    super(message);
    this.name = 'CodecError';
  }
}

const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

function need(bytes: Uint8Array, offset: number, size: number, what: string): void {
  if (offset < 0 || offset + size > bytes.length) {
    throw new CodecError(`${what} needs ${size} bytes at offset ${offset}, have ${bytes.length}`, what);
  }
}

// ---------- UTF-16 (WCHAR arrays) ----------

/** Reads a NUL-terminated WCHAR array of at most `maxUnits` units; no terminator needed at the end. */
export function readWchars(bytes: Uint8Array, offset: number, maxUnits: number): string {
  need(bytes, offset, maxUnits * 2, 'WCHAR[]');
  const dv = view(bytes);
  let end = 0;
  while (end < maxUnits && dv.getUint16(offset + end * 2, true) !== 0) end++;
  return Buffer.from(bytes.buffer, bytes.byteOffset + offset, end * 2).toString('utf16le');
}

/** Writes `text` into a WCHAR[maxUnits], zero-filling the rest; throws if it does not fit. */
export function writeWchars(bytes: Uint8Array, offset: number, maxUnits: number, text: string, field: string): void {
  if (text.length > maxUnits) throw new CodecError(`${field} holds at most ${maxUnits} UTF-16 units, got ${text.length}`, field);
  need(bytes, offset, maxUnits * 2, field);
  bytes.fill(0, offset, offset + maxUnits * 2);
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).write(text, offset, 'utf16le');
}

// ---------- USB_DEFAULT_PIPE_SETUP_PACKET ----------

export interface SetupPacket {
  bmRequestType: number;
  bRequest: number;
  wValue: number;
  wIndex: number;
  wLength: number;
}

export function encodeSetupPacket(p: SetupPacket, out: Uint8Array = new Uint8Array(8), offset = 0): Uint8Array {
  need(out, offset, L.SETUP_PACKET_SIZE, 'USB_DEFAULT_PIPE_SETUP_PACKET');
  const dv = view(out);
  dv.setUint8(offset, p.bmRequestType);
  dv.setUint8(offset + 1, p.bRequest);
  dv.setUint16(offset + 2, p.wValue, true);
  dv.setUint16(offset + 4, p.wIndex, true);
  dv.setUint16(offset + 6, p.wLength, true);
  return out;
}

export function decodeSetupPacket(bytes: Uint8Array, offset = 0): SetupPacket {
  need(bytes, offset, L.SETUP_PACKET_SIZE, 'USB_DEFAULT_PIPE_SETUP_PACKET');
  const dv = view(bytes);
  return {
    bmRequestType: dv.getUint8(offset),
    bRequest: dv.getUint8(offset + 1),
    wValue: dv.getUint16(offset + 2, true),
    wIndex: dv.getUint16(offset + 4, true),
    wLength: dv.getUint16(offset + 6, true),
  };
}

// ---------- USB_ENDPOINT_DESCRIPTOR / USBFN_PIPE_INFORMATION ----------

export interface EndpointDescriptor {
  bLength: number;
  bDescriptorType: number;
  bEndpointAddress: number;
  bmAttributes: number;
  wMaxPacketSize: number;
  bInterval: number;
}

export interface PipeInformation {
  epDesc: EndpointDescriptor;
  pipeId: number;
}

export function encodeEndpointDescriptor(d: EndpointDescriptor, out: Uint8Array, offset = 0): void {
  need(out, offset, L.ENDPOINT_DESCRIPTOR_SIZE, 'USB_ENDPOINT_DESCRIPTOR');
  const dv = view(out);
  dv.setUint8(offset, d.bLength);
  dv.setUint8(offset + 1, d.bDescriptorType);
  dv.setUint8(offset + 2, d.bEndpointAddress);
  dv.setUint8(offset + 3, d.bmAttributes);
  dv.setUint16(offset + 4, d.wMaxPacketSize, true);
  dv.setUint8(offset + 6, d.bInterval);
}

export function decodeEndpointDescriptor(bytes: Uint8Array, offset = 0): EndpointDescriptor {
  need(bytes, offset, L.ENDPOINT_DESCRIPTOR_SIZE, 'USB_ENDPOINT_DESCRIPTOR');
  const dv = view(bytes);
  return {
    bLength: dv.getUint8(offset),
    bDescriptorType: dv.getUint8(offset + 1),
    bEndpointAddress: dv.getUint8(offset + 2),
    bmAttributes: dv.getUint8(offset + 3),
    wMaxPacketSize: dv.getUint16(offset + 4, true),
    bInterval: dv.getUint8(offset + 6),
  };
}

function encodePipes(pipes: readonly PipeInformation[], out: Uint8Array, offset: number): void {
  if (pipes.length > MAX_NUM_USBFN_PIPES) throw new CodecError(`at most ${MAX_NUM_USBFN_PIPES} pipes, got ${pipes.length}`, 'PipeCount');
  out.fill(0, offset, offset + MAX_NUM_USBFN_PIPES * L.PIPE_INFORMATION_SIZE);
  pipes.forEach((p, i) => {
    const at = offset + i * L.PIPE_INFORMATION_SIZE;
    encodeEndpointDescriptor(p.epDesc, out, at);
    view(out).setUint32(at + L.PIPE_INFORMATION_PIPE_ID_OFFSET, p.pipeId, true);
  });
}

function decodePipes(bytes: Uint8Array, offset: number, count: number): PipeInformation[] {
  if (count > MAX_NUM_USBFN_PIPES) throw new CodecError(`PipeCount ${count} exceeds ${MAX_NUM_USBFN_PIPES}`, 'PipeCount');
  const pipes: PipeInformation[] = [];
  for (let i = 0; i < count; i++) {
    const at = offset + i * L.PIPE_INFORMATION_SIZE;
    pipes.push({
      epDesc: decodeEndpointDescriptor(bytes, at),
      pipeId: view(bytes).getUint32(at + L.PIPE_INFORMATION_PIPE_ID_OFFSET, true),
    });
  }
  return pipes;
}

// ---------- USBFN_CLASS_INTERFACE(_EX) ----------

export interface ClassInterface {
  interfaceNumber: number;
  /** PipeArr[0 .. PipeCount-1]; PipeArr[0] is EP0 by Microsoft's convention. */
  pipes: PipeInformation[];
}

export interface ClassInterfaceEx {
  baseInterfaceNumber: number;
  interfaceCount: number;
  pipes: PipeInformation[];
}

export function encodeClassInterface(c: ClassInterface, out: Uint8Array, offset = 0): void {
  need(out, offset, L.CLASS_INTERFACE_SIZE, 'USBFN_CLASS_INTERFACE');
  out.fill(0, offset, offset + L.CLASS_INTERFACE_SIZE);
  out[offset] = c.interfaceNumber;
  out[offset + 1] = c.pipes.length;
  encodePipes(c.pipes, out, offset + L.CLASS_INTERFACE_PIPES_OFFSET);
}

export function decodeClassInterface(bytes: Uint8Array, offset = 0): ClassInterface {
  need(bytes, offset, L.CLASS_INTERFACE_SIZE, 'USBFN_CLASS_INTERFACE');
  return { interfaceNumber: bytes[offset], pipes: decodePipes(bytes, offset + L.CLASS_INTERFACE_PIPES_OFFSET, bytes[offset + 1]) };
}

export function encodeClassInterfaceEx(c: ClassInterfaceEx, out: Uint8Array, offset = 0): void {
  need(out, offset, L.CLASS_INTERFACE_SIZE, 'USBFN_CLASS_INTERFACE_EX');
  out.fill(0, offset, offset + L.CLASS_INTERFACE_SIZE);
  out[offset] = c.baseInterfaceNumber;
  out[offset + 1] = c.interfaceCount;
  out[offset + 2] = c.pipes.length;
  encodePipes(c.pipes, out, offset + L.CLASS_INTERFACE_PIPES_OFFSET);
}

export function decodeClassInterfaceEx(bytes: Uint8Array, offset = 0): ClassInterfaceEx {
  need(bytes, offset, L.CLASS_INTERFACE_SIZE, 'USBFN_CLASS_INTERFACE_EX');
  return {
    baseInterfaceNumber: bytes[offset],
    interfaceCount: bytes[offset + 1],
    pipes: decodePipes(bytes, offset + L.CLASS_INTERFACE_PIPES_OFFSET, bytes[offset + 2]),
  };
}

// ---------- USBFN_CLASS_INFORMATION_PACKET(_EX) ----------

interface NameAndGuid {
  interfaceName: string;
  /** null when HasInterfaceGuid is FALSE. */
  interfaceGuid: string | null;
}

export interface ClassInformationPacket extends NameAndGuid {
  fullSpeed: ClassInterface;
  highSpeed: ClassInterface;
  superSpeed: ClassInterface;
}

export interface ClassInformationPacketEx extends NameAndGuid {
  fullSpeed: ClassInterfaceEx;
  highSpeed: ClassInterfaceEx;
  superSpeed: ClassInterfaceEx;
}

function encodeNameAndGuid(p: NameAndGuid, out: Uint8Array, nameAt: number, guidAt: number, hasAt: number): void {
  writeWchars(out, nameAt, MAX_INTERFACE_NAME_LENGTH, p.interfaceName, 'InterfaceName');
  writeWchars(out, guidAt, MAX_INTERFACE_GUID_LENGTH, p.interfaceGuid ?? '', 'InterfaceGuid');
  out[hasAt] = p.interfaceGuid === null ? 0 : 1;
}

function decodeNameAndGuid(bytes: Uint8Array, nameAt: number, guidAt: number, hasAt: number): NameAndGuid {
  return {
    interfaceName: readWchars(bytes, nameAt, MAX_INTERFACE_NAME_LENGTH),
    interfaceGuid: bytes[hasAt] ? readWchars(bytes, guidAt, MAX_INTERFACE_GUID_LENGTH) : null,
  };
}

export function encodeClassInformationPacket(p: ClassInformationPacket, out: Uint8Array = new Uint8Array(L.CLASS_INFO_SIZE)): Uint8Array {
  need(out, 0, L.CLASS_INFO_SIZE, 'USBFN_CLASS_INFORMATION_PACKET');
  out.fill(0, 0, L.CLASS_INFO_SIZE);
  encodeClassInterface(p.fullSpeed, out, L.CLASS_INFO_FULL_OFFSET);
  encodeClassInterface(p.highSpeed, out, L.CLASS_INFO_HIGH_OFFSET);
  encodeClassInterface(p.superSpeed, out, L.CLASS_INFO_SUPER_OFFSET);
  encodeNameAndGuid(p, out, L.CLASS_INFO_NAME_OFFSET, L.CLASS_INFO_GUID_OFFSET, L.CLASS_INFO_HAS_GUID_OFFSET);
  return out;
}

export function decodeClassInformationPacket(bytes: Uint8Array): ClassInformationPacket {
  need(bytes, 0, L.CLASS_INFO_SIZE, 'USBFN_CLASS_INFORMATION_PACKET');
  return {
    fullSpeed: decodeClassInterface(bytes, L.CLASS_INFO_FULL_OFFSET),
    highSpeed: decodeClassInterface(bytes, L.CLASS_INFO_HIGH_OFFSET),
    superSpeed: decodeClassInterface(bytes, L.CLASS_INFO_SUPER_OFFSET),
    ...decodeNameAndGuid(bytes, L.CLASS_INFO_NAME_OFFSET, L.CLASS_INFO_GUID_OFFSET, L.CLASS_INFO_HAS_GUID_OFFSET),
  };
}

export function encodeClassInformationPacketEx(p: ClassInformationPacketEx, out: Uint8Array = new Uint8Array(L.CLASS_INFO_SIZE)): Uint8Array {
  need(out, 0, L.CLASS_INFO_SIZE, 'USBFN_CLASS_INFORMATION_PACKET_EX');
  out.fill(0, 0, L.CLASS_INFO_SIZE);
  encodeClassInterfaceEx(p.fullSpeed, out, L.CLASS_INFO_EX_FULL_OFFSET);
  encodeClassInterfaceEx(p.highSpeed, out, L.CLASS_INFO_EX_HIGH_OFFSET);
  encodeClassInterfaceEx(p.superSpeed, out, L.CLASS_INFO_EX_SUPER_OFFSET);
  encodeNameAndGuid(p, out, L.CLASS_INFO_EX_NAME_OFFSET, L.CLASS_INFO_EX_GUID_OFFSET, L.CLASS_INFO_EX_HAS_GUID_OFFSET);
  return out;
}

export function decodeClassInformationPacketEx(bytes: Uint8Array): ClassInformationPacketEx {
  need(bytes, 0, L.CLASS_INFO_SIZE, 'USBFN_CLASS_INFORMATION_PACKET_EX');
  return {
    fullSpeed: decodeClassInterfaceEx(bytes, L.CLASS_INFO_EX_FULL_OFFSET),
    highSpeed: decodeClassInterfaceEx(bytes, L.CLASS_INFO_EX_HIGH_OFFSET),
    superSpeed: decodeClassInterfaceEx(bytes, L.CLASS_INFO_EX_SUPER_OFFSET),
    ...decodeNameAndGuid(bytes, L.CLASS_INFO_EX_NAME_OFFSET, L.CLASS_INFO_EX_GUID_OFFSET, L.CLASS_INFO_EX_HAS_GUID_OFFSET),
  };
}

// ---------- USBFN_NOTIFICATION ----------

export interface AlternateInterface {
  interfaceNumber: number;
  alternateInterfaceNumber: number;
}

/**
 * A decoded notification. Only the union member that belongs to `event` is set; `raw` always
 * holds the 8 union bytes, so an event code this library does not know loses nothing.
 */
export interface Notification {
  event: number;
  busSpeed?: number;
  setupPacket?: SetupPacket;
  configurationValue?: number;
  portType?: number;
  alternateInterface?: AlternateInterface;
  raw?: Uint8Array;
}

export function encodeNotification(n: Notification, out: Uint8Array = new Uint8Array(L.NOTIFICATION_SIZE)): Uint8Array {
  need(out, 0, L.NOTIFICATION_SIZE, 'USBFN_NOTIFICATION');
  const dv = view(out);
  const u = L.NOTIFICATION_UNION_OFFSET;
  out.fill(0, 0, L.NOTIFICATION_SIZE);
  if (n.raw) out.set(n.raw.subarray(0, 8), u);
  dv.setUint32(0, n.event, true);
  if (n.busSpeed !== undefined) dv.setUint32(u, n.busSpeed, true);
  if (n.setupPacket) encodeSetupPacket(n.setupPacket, out, u);
  if (n.configurationValue !== undefined) dv.setUint16(u, n.configurationValue, true);
  if (n.portType !== undefined) dv.setUint32(u, n.portType, true);
  if (n.alternateInterface) {
    dv.setUint16(u, n.alternateInterface.interfaceNumber, true);
    dv.setUint16(u + 2, n.alternateInterface.alternateInterfaceNumber, true);
  }
  return out;
}

export function decodeNotification(bytes: Uint8Array): Notification {
  need(bytes, 0, L.NOTIFICATION_SIZE, 'USBFN_NOTIFICATION');
  const dv = view(bytes);
  const u = L.NOTIFICATION_UNION_OFFSET;
  const event = dv.getUint32(0, true);
  const raw = Uint8Array.from(bytes.subarray(u, u + 8));
  switch (event) {
    case UsbFnEvent.Attach:
    case UsbFnEvent.Reset:
      return { event, busSpeed: dv.getUint32(u, true), raw };
    case UsbFnEvent.SetupPacket:
      return { event, setupPacket: decodeSetupPacket(bytes, u), raw };
    case UsbFnEvent.Configured:
      return { event, configurationValue: dv.getUint16(u, true), raw };
    case UsbFnEvent.PortType:
      return { event, portType: dv.getUint32(u, true), raw };
    case UsbFnEvent.SetInterface:
      return { event, alternateInterface: { interfaceNumber: dv.getUint16(u, true), alternateInterfaceNumber: dv.getUint16(u + 2, true) }, raw };
    default:
      return { event, raw };
  }
}

// ---------- USBFN_INTERFACE_INFO ----------

/**
 * What USBFN_INTERFACE_INFO.Size counts is open (genericusbfn.md §5): 'payload' = the descriptor
 * bytes only, 'total' = the header's 10 bytes before InterfaceDescriptorSet plus those bytes.
 */
export type InterfaceInfoSizeMode = 'payload' | 'total';

export interface InterfaceInfo {
  interfaceNumber: number;
  speed: number;
  size: number;
  descriptorSet: Uint8Array;
}

/** The 12-byte header GET_INTERFACE_DESCRIPTOR_SET takes as input. */
export function encodeInterfaceInfoHeader(interfaceNumber: number, speed: number, size = 0, out: Uint8Array = new Uint8Array(L.INTERFACE_INFO_SIZE)): Uint8Array {
  need(out, 0, L.INTERFACE_INFO_SIZE, 'USBFN_INTERFACE_INFO');
  out.fill(0, 0, L.INTERFACE_INFO_SIZE);
  const dv = view(out);
  dv.setUint8(0, interfaceNumber);
  dv.setUint32(L.INTERFACE_INFO_SPEED_OFFSET, speed, true);
  dv.setUint16(L.INTERFACE_INFO_SIZE_OFFSET, size, true);
  return out;
}

/** Header plus descriptor bytes, Size written per `mode`; the buffer is at least 12 bytes. */
export function encodeInterfaceInfo(info: Omit<InterfaceInfo, 'size'>, mode: InterfaceInfoSizeMode): Uint8Array {
  const set = info.descriptorSet;
  const size = mode === 'payload' ? set.length : L.INTERFACE_INFO_SET_OFFSET + set.length;
  if (size > 0xffff) throw new CodecError(`descriptor set of ${set.length} bytes does not fit Size (u16)`, 'Size');
  const out: Uint8Array = new Uint8Array(Math.max(L.INTERFACE_INFO_SIZE, L.INTERFACE_INFO_SET_OFFSET + set.length));
  encodeInterfaceInfoHeader(info.interfaceNumber, info.speed, size, out);
  out.set(set, L.INTERFACE_INFO_SET_OFFSET);
  return out;
}

/** Reads Size alone (valid even after ERROR_INSUFFICIENT_BUFFER). */
export function readInterfaceInfoSize(bytes: Uint8Array): number {
  need(bytes, 0, L.INTERFACE_INFO_SET_OFFSET, 'USBFN_INTERFACE_INFO');
  return view(bytes).getUint16(L.INTERFACE_INFO_SIZE_OFFSET, true);
}

/**
 * Decodes `valid` bytes of `bytes` (the driver's byte count, already clamped by the caller).
 * The descriptor set is cut at the smaller of what Size claims and what was returned; a Size
 * claiming more than was returned is a CodecError, never a read past the data.
 */
export function decodeInterfaceInfo(bytes: Uint8Array, valid: number, mode: InterfaceInfoSizeMode): InterfaceInfo {
  const n = Math.min(valid, bytes.length);
  need(bytes.subarray(0, n), 0, L.INTERFACE_INFO_SET_OFFSET, 'USBFN_INTERFACE_INFO');
  const dv = view(bytes);
  const size = dv.getUint16(L.INTERFACE_INFO_SIZE_OFFSET, true);
  const setLength = mode === 'payload' ? size : size - L.INTERFACE_INFO_SET_OFFSET;
  if (setLength < 0 || L.INTERFACE_INFO_SET_OFFSET + setLength > n) {
    throw new CodecError(`Size ${size} (${mode}) claims more than the ${n} bytes returned`, 'Size');
  }
  return {
    interfaceNumber: dv.getUint8(0),
    speed: dv.getUint32(L.INTERFACE_INFO_SPEED_OFFSET, true),
    size,
    descriptorSet: Uint8Array.from(bytes.subarray(L.INTERFACE_INFO_SET_OFFSET, L.INTERFACE_INFO_SET_OFFSET + setLength)),
  };
}

// ---------- USBFN_USB_STRING ----------

export interface UsbString {
  stringIndex: number;
  text: string;
}

export function encodeUsbString(s: UsbString, out: Uint8Array = new Uint8Array(L.USB_STRING_SIZE)): Uint8Array {
  need(out, 0, L.USB_STRING_SIZE, 'USBFN_USB_STRING');
  if (!Number.isInteger(s.stringIndex) || s.stringIndex < 0 || s.stringIndex > 255) {
    throw new CodecError(`StringIndex must be 0..255, got ${s.stringIndex}`, 'StringIndex');
  }
  out.fill(0, 0, L.USB_STRING_SIZE);
  out[0] = s.stringIndex;
  writeWchars(out, L.USB_STRING_TEXT_OFFSET, MAX_USB_STRING_LENGTH, s.text, 'UsbString');
  return out;
}

export function decodeUsbString(bytes: Uint8Array): UsbString {
  need(bytes, 0, L.USB_STRING_SIZE, 'USBFN_USB_STRING');
  return { stringIndex: bytes[0], text: readWchars(bytes, L.USB_STRING_TEXT_OFFSET, MAX_USB_STRING_LENGTH) };
}

/** A pipe id (USBFNPIPEID, u32 LE): the lpInBuffer of transfers, handshakes and pipe state. */
export function encodePipeId(pipeId: number, out: Uint8Array = new Uint8Array(L.PIPE_ID_SIZE)): Uint8Array {
  view(out).setUint32(0, pipeId, true);
  return out;
}

export function decodePipeId(bytes: Uint8Array): number {
  need(bytes, 0, L.PIPE_ID_SIZE, 'USBFNPIPEID');
  return view(bytes).getUint32(0, true);
}
