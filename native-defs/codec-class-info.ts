/** USBFN_CLASS_INTERFACE(_EX) and USBFN_CLASS_INFORMATION_PACKET(_EX). See codec.ts for the rules every decoder follows. */
import { LAYOUT as L, MAX_INTERFACE_NAME_LENGTH, MAX_INTERFACE_GUID_LENGTH } from './layout.js';
import { decodePipes, encodePipes, need, readWchars, writeWchars, type PipeInformation } from './codec-core.js';

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
