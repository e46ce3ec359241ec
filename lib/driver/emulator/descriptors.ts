/**
 * What the registry would hold for an emulated interface, generated from its options: the class
 * information packets (GET_CLASS_INFO / _EX) and the descriptor set per speed
 * (GET_INTERFACE_DESCRIPTOR_SET). Built once per emulator, through native-defs' encoders.
 */
import {
  encodeClassInformationPacket,
  encodeClassInformationPacketEx,
  type ClassInterface,
  type PipeInformation,
} from '../../../native-defs/codec.js';
import {
  USB_ENDPOINT_DESCRIPTOR_TYPE,
  USB_ENDPOINT_TYPE_BULK,
  USB_ENDPOINT_TYPE_CONTROL,
  USB_ENDPOINT_TYPE_INTERRUPT,
  USB_STRING_DESCRIPTOR_TYPE,
} from '../../../native-defs/enums.js';
import { interfaceDescriptors } from '../function-description.js';
import { LAYOUT } from '../../../native-defs/layout.js';
import { DESCRIPTOR_SPEEDS, type DescriptorSpeed, type ResolvedEndpoint, type ResolvedOptions } from './options.js';

function pipeInfo(e: ResolvedEndpoint, speed: DescriptorSpeed): PipeInformation {
  return {
    pipeId: e.pipeId,
    epDesc: {
      bLength: LAYOUT.ENDPOINT_DESCRIPTOR_SIZE,
      bDescriptorType: USB_ENDPOINT_DESCRIPTOR_TYPE,
      bEndpointAddress: e.address,
      bmAttributes: e.type === 'bulk' ? USB_ENDPOINT_TYPE_BULK : USB_ENDPOINT_TYPE_INTERRUPT,
      wMaxPacketSize: e.maxPacketSize[speed],
      bInterval: e.interval,
    },
  };
}

function classInterface(o: ResolvedOptions, speed: DescriptorSpeed): ClassInterface {
  // PipeArr[0] is EP0 (pipe id 0), as Microsoft's NCM driver expects; data pipes follow in config order.
  const ep0: PipeInformation = {
    pipeId: 0,
    epDesc: {
      bLength: LAYOUT.ENDPOINT_DESCRIPTOR_SIZE,
      bDescriptorType: USB_ENDPOINT_DESCRIPTOR_TYPE,
      bEndpointAddress: 0,
      bmAttributes: USB_ENDPOINT_TYPE_CONTROL,
      wMaxPacketSize: o.ep0MaxPacketSize[speed],
      bInterval: 0,
    },
  };
  return { interfaceNumber: o.interfaceNumber, pipes: [ep0, ...o.endpoints.map((e) => pipeInfo(e, speed))] };
}

/** The 748-byte USBFN_CLASS_INFORMATION_PACKET GET_CLASS_INFO writes. */
export function buildClassInfo(o: ResolvedOptions): Uint8Array {
  return encodeClassInformationPacket({
    interfaceName: o.interfaceName,
    interfaceGuid: o.interfaceGuid,
    fullSpeed: classInterface(o, 'full'),
    highSpeed: classInterface(o, 'high'),
    superSpeed: classInterface(o, 'super'),
  });
}

/** The 748-byte USBFN_CLASS_INFORMATION_PACKET_EX GET_CLASS_INFO_EX writes (one interface). */
export function buildClassInfoEx(o: ResolvedOptions): Uint8Array {
  const ex = (speed: DescriptorSpeed) => {
    const c = classInterface(o, speed);
    return { baseInterfaceNumber: c.interfaceNumber, interfaceCount: 1, pipes: c.pipes };
  };
  return encodeClassInformationPacketEx({
    interfaceName: o.interfaceName,
    interfaceGuid: o.interfaceGuid,
    fullSpeed: ex('full'),
    highSpeed: ex('high'),
    superSpeed: ex('super'),
  });
}

/** The generated interface + endpoint descriptors (function-description.ts), then `extraDescriptors`. */
export function buildDescriptorSet(o: ResolvedOptions, speed: DescriptorSpeed): Uint8Array {
  const fn = { ...o, interfaceString: null, msOs: null };
  return interfaceDescriptors(fn, speed, { interfaceNumber: o.interfaceNumber, iInterface: 0, extra: 'afterEndpoints' });
}

/** The descriptor sets of all three speeds. */
export function buildDescriptorSets(o: ResolvedOptions): Record<DescriptorSpeed, Uint8Array> {
  const sets = {} as Record<DescriptorSpeed, Uint8Array>;
  for (const s of DESCRIPTOR_SPEEDS) sets[s] = buildDescriptorSet(o, s);
  return sets;
}

/** A USB string descriptor for `text` (truncated to the 126 UTF-16 units a descriptor can hold). */
export function stringDescriptor(text: string): Uint8Array {
  const units = text.slice(0, 126);
  const out = new Uint8Array(2 + units.length * 2);
  out[0] = out.length;
  out[1] = USB_STRING_DESCRIPTOR_TYPE;
  Buffer.from(out.buffer, out.byteOffset, out.length).write(units, 2, 'utf16le');
  return out;
}

/** String descriptor 0 when nothing was registered at index 0: LANGID 0x0409 (English, US). */
export const DEFAULT_LANGID_DESCRIPTOR = Uint8Array.of(4, USB_STRING_DESCRIPTOR_TYPE, 0x09, 0x04);
