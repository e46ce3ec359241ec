/**
 * The fuzz targets for every decoder of driver data: each with valid seed encodings (built with the
 * project's own encoders) and a decode step that goes as far as the library goes with those bytes
 * (native struct → driver-level object). The only error a decoder may throw is a CodecError.
 */
import * as codec from '../../native-defs/codec.js';
import { LAYOUT as L } from '../../native-defs/structs.js';
import { UsbFnEvent, decodeRequestType } from '../../native-defs/enums.js';
import { toBusEvent, toClassInfo, toClassInfoEx } from '../../lib/driver/genericusbfn/decode.js';

export interface DecoderTarget {
  name: string;
  seeds: Uint8Array[];
  decode(bytes: Uint8Array): unknown;
}

const endpoint = (bEndpointAddress: number, bmAttributes: number, wMaxPacketSize: number): codec.EndpointDescriptor => ({
  bLength: 7, bDescriptorType: 5, bEndpointAddress, bmAttributes, wMaxPacketSize, bInterval: 0,
});

const pipes = (mps: number): codec.PipeInformation[] => [
  { epDesc: endpoint(0x00, 0, 64), pipeId: 0 },
  { epDesc: endpoint(0x81, 2, mps), pipeId: 1 },
  { epDesc: endpoint(0x01, 2, mps), pipeId: 2 },
];

function classInfoSeeds(): Uint8Array[] {
  const named = { interfaceName: 'usbfn', interfaceGuid: '{8a1d3d62-5b7d-4d5e-9f00-0123456789ab}' };
  return [
    codec.encodeClassInformationPacket({
      ...named,
      fullSpeed: { interfaceNumber: 0, pipes: pipes(64) },
      highSpeed: { interfaceNumber: 0, pipes: pipes(512) },
      superSpeed: { interfaceNumber: 0, pipes: pipes(1024) },
    }),
    codec.encodeClassInformationPacket({
      interfaceName: '',
      interfaceGuid: null,
      fullSpeed: { interfaceNumber: 3, pipes: [] },
      highSpeed: { interfaceNumber: 3, pipes: pipes(512).concat(pipes(512), pipes(512), pipes(512), pipes(512)).slice(0, 16) },
      superSpeed: { interfaceNumber: 3, pipes: [] },
    }),
  ];
}

function classInfoExSeeds(): Uint8Array[] {
  const speed = (mps: number) => ({ baseInterfaceNumber: 1, interfaceCount: 2, pipes: pipes(mps) });
  return [
    codec.encodeClassInformationPacketEx({ interfaceName: 'ex', interfaceGuid: null, fullSpeed: speed(64), highSpeed: speed(512), superSpeed: speed(1024) }),
  ];
}

function notificationSeeds(): Uint8Array[] {
  const setupPacket = { bmRequestType: 0xa1, bRequest: 0x21, wValue: 0, wIndex: 0, wLength: 7 };
  return [
    codec.encodeNotification({ event: UsbFnEvent.Attach, busSpeed: 2 }),
    codec.encodeNotification({ event: UsbFnEvent.SetupPacket, setupPacket }),
    codec.encodeNotification({ event: UsbFnEvent.Configured, configurationValue: 1 }),
    codec.encodeNotification({ event: UsbFnEvent.SetInterface, alternateInterface: { interfaceNumber: 0, alternateInterfaceNumber: 1 } }),
    codec.encodeNotification({ event: UsbFnEvent.PortType, portType: 3 }),
    codec.encodeNotification({ event: 0x1234, raw: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8) }),
  ];
}

function interfaceInfoSeeds(mode: codec.InterfaceInfoSizeMode): Uint8Array[] {
  const set = Uint8Array.of(9, 4, 0, 0, 2, 0xff, 0, 0, 0, 7, 5, 0x81, 2, 0, 2, 0, 7, 5, 1, 2, 0, 2, 0);
  return [
    codec.encodeInterfaceInfo({ interfaceNumber: 0, speed: 2, descriptorSet: set }, mode),
    codec.encodeInterfaceInfo({ interfaceNumber: 1, speed: 0, descriptorSet: new Uint8Array(0) }, mode),
  ];
}

const setupSeeds = () => [
  codec.encodeSetupPacket({ bmRequestType: 0x21, bRequest: 0x20, wValue: 0, wIndex: 0, wLength: 7 }),
  codec.encodeSetupPacket({ bmRequestType: 0xc0, bRequest: 0x01, wValue: 0xffff, wIndex: 0x0100, wLength: 0xffff }),
];

/** Every decoder of bytes that come from a driver, or from a host through a driver. */
export const DECODER_TARGETS: readonly DecoderTarget[] = [
  { name: 'class information packet', seeds: classInfoSeeds(), decode: (b) => toClassInfo(codec.decodeClassInformationPacket(b)) },
  { name: 'class information packet EX', seeds: classInfoExSeeds(), decode: (b) => toClassInfoEx(codec.decodeClassInformationPacketEx(b)) },
  { name: 'notification', seeds: notificationSeeds(), decode: (b) => toBusEvent(codec.decodeNotification(b)) },
  { name: 'interface info (payload Size)', seeds: interfaceInfoSeeds('payload'), decode: (b) => codec.decodeInterfaceInfo(b, b.length, 'payload') },
  { name: 'interface info (total Size)', seeds: interfaceInfoSeeds('total'), decode: (b) => codec.decodeInterfaceInfo(b, b.length, 'total') },
  { name: 'interface info Size field', seeds: interfaceInfoSeeds('payload'), decode: (b) => codec.readInterfaceInfoSize(b) },
  {
    name: 'setup packet',
    seeds: setupSeeds(),
    decode: (b) => {
      const setup = codec.decodeSetupPacket(b);
      return { setup, fields: decodeRequestType(setup.bmRequestType) };
    },
  },
  { name: 'pipe information array', seeds: [classInfoSeeds()[0].subarray(L.CLASS_INFO_HIGH_OFFSET)], decode: (b) => codec.decodeClassInterface(b) },
  { name: 'USB string', seeds: [codec.encodeUsbString({ stringIndex: 4, text: 'Serial 0001' })], decode: (b) => codec.decodeUsbString(b) },
  { name: 'pipe id', seeds: [codec.encodePipeId(7)], decode: (b) => codec.decodePipeId(b) },
];
