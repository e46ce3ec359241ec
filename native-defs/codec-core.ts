/**
 * Codec building blocks: CodecError, bounds checks, WCHAR arrays, and the small structs (setup
 * packet, endpoint descriptor, pipe information, pipe id, USB string). See codec.ts.
 *
 * Decoders never read past the bytes they are given and reject what a well-behaved driver could
 * not have produced (a PipeCount above 16, a truncated struct) with a CodecError naming the field;
 * the driver layer turns that into a coded UsbFnError.
 */
import { LAYOUT as L, MAX_NUM_USBFN_PIPES, MAX_USB_STRING_LENGTH } from './layout.js';

/** Malformed or out-of-range struct data; `field` names the C member at fault. */
export class CodecError extends RangeError {
  constructor(message: string, readonly field: string) {
    super(message);
    this.name = 'CodecError';
  }
}

/** A DataView over exactly the bytes of `b`. */
export const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

/** Throws a CodecError unless `size` bytes exist at `offset`. */
export function need(bytes: Uint8Array, offset: number, size: number, what: string): void {
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

/** PipeArr[16] of USBFN_CLASS_INTERFACE(_EX), zero-filled past `pipes.length`. */
export function encodePipes(pipes: readonly PipeInformation[], out: Uint8Array, offset: number): void {
  if (pipes.length > MAX_NUM_USBFN_PIPES) throw new CodecError(`at most ${MAX_NUM_USBFN_PIPES} pipes, got ${pipes.length}`, 'PipeCount');
  out.fill(0, offset, offset + MAX_NUM_USBFN_PIPES * L.PIPE_INFORMATION_SIZE);
  pipes.forEach((p, i) => {
    const at = offset + i * L.PIPE_INFORMATION_SIZE;
    encodeEndpointDescriptor(p.epDesc, out, at);
    view(out).setUint32(at + L.PIPE_INFORMATION_PIPE_ID_OFFSET, p.pipeId, true);
  });
}

/** The first `count` entries of PipeArr[16]; a count above 16 is malformed. */
export function decodePipes(bytes: Uint8Array, offset: number, count: number): PipeInformation[] {
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
