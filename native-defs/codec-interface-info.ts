/** USBFN_INTERFACE_INFO: GET_INTERFACE_DESCRIPTOR_SET's header and descriptor bytes. See codec.ts for the rules every decoder follows. */
import { LAYOUT as L } from './layout.js';
import { CodecError, need, view } from './codec-core.js';

// ---------- USBFN_INTERFACE_INFO ----------

/**
 * What USBFN_INTERFACE_INFO.Size counts is left open by Microsoft: 'payload' = the descriptor
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
