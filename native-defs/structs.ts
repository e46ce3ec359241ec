/**
 * koffi type definitions of every GenericUSBFn.sys struct (usbspec.h, usbfnbase.h), marked
 * with the C type each matches. `usbspec.h` structs are packed to 1 (koffi.pack); `usbfnbase.h`
 * structs use natural alignment (koffi.struct). WCHAR is `uint16_t`: koffi's `wchar_t` is 4 bytes on Linux.
 *
 * These types document the ABI and are pinned by tests against the spec's sizes and offsets
 * (layout.ts); hot paths encode with Buffer/DataView instead (codec.ts), which costs next to
 * nothing where a koffi encode costs microseconds. Defining types loads no DLL, but importing
 * koffi maps its native module: the library never imports this file, only the tests do.
 */
import koffi from 'koffi';
import { MAX_INTERFACE_GUID_LENGTH, MAX_INTERFACE_NAME_LENGTH, MAX_NUM_USBFN_PIPES, MAX_USB_STRING_LENGTH } from './layout.js';

export * from './layout.js';

/** USB_DEFAULT_PIPE_SETUP_PACKET (usbspec.h, packed; the unions flattened to their widths). */
export const USB_DEFAULT_PIPE_SETUP_PACKET = koffi.pack('USB_DEFAULT_PIPE_SETUP_PACKET', {
  bmRequestType: 'uint8_t',
  bRequest: 'uint8_t',
  wValue: 'uint16_t',
  wIndex: 'uint16_t',
  wLength: 'uint16_t',
});

/** USB_ENDPOINT_DESCRIPTOR (usbspec.h, packed: wMaxPacketSize is an unaligned u16 at 4). */
export const USB_ENDPOINT_DESCRIPTOR = koffi.pack('USB_ENDPOINT_DESCRIPTOR', {
  bLength: 'uint8_t',
  bDescriptorType: 'uint8_t',
  bEndpointAddress: 'uint8_t',
  bmAttributes: 'uint8_t',
  wMaxPacketSize: 'uint16_t',
  bInterval: 'uint8_t',
});

/** USB_INTERFACE_DESCRIPTOR (usbspec.h, packed). */
export const USB_INTERFACE_DESCRIPTOR = koffi.pack('USB_INTERFACE_DESCRIPTOR', {
  bLength: 'uint8_t',
  bDescriptorType: 'uint8_t',
  bInterfaceNumber: 'uint8_t',
  bAlternateSetting: 'uint8_t',
  bNumEndpoints: 'uint8_t',
  bInterfaceClass: 'uint8_t',
  bInterfaceSubClass: 'uint8_t',
  bInterfaceProtocol: 'uint8_t',
  iInterface: 'uint8_t',
});

/** ALTERNATE_INTERFACE (usbfnbase.h). */
export const ALTERNATE_INTERFACE = koffi.struct('ALTERNATE_INTERFACE', {
  InterfaceNumber: 'uint16_t',
  AlternateInterfaceNumber: 'uint16_t',
});

/** The anonymous union `u` of USBFN_NOTIFICATION; enums are 4-byte `uint32_t`. */
export const USBFN_NOTIFICATION_UNION = koffi.union('USBFN_NOTIFICATION_UNION', {
  BusSpeed: 'uint32_t',
  SetupPacket: USB_DEFAULT_PIPE_SETUP_PACKET,
  ConfigurationValue: 'uint16_t',
  PortType: 'uint32_t',
  AlternateInterface: ALTERNATE_INTERFACE,
});

/** USBFN_NOTIFICATION (usbfnbase.h): `USBFN_EVENT Event` then the union. */
export const USBFN_NOTIFICATION = koffi.struct('USBFN_NOTIFICATION', {
  Event: 'uint32_t',
  u: USBFN_NOTIFICATION_UNION,
});

/** USBFN_PIPE_INFORMATION: EpDesc (7 bytes, align 1), one pad byte, `USBFNPIPEID PipeId` at 8. */
export const USBFN_PIPE_INFORMATION = koffi.struct('USBFN_PIPE_INFORMATION', {
  EpDesc: USB_ENDPOINT_DESCRIPTOR,
  PipeId: 'uint32_t',
});

/** USBFN_CLASS_INTERFACE. */
export const USBFN_CLASS_INTERFACE = koffi.struct('USBFN_CLASS_INTERFACE', {
  InterfaceNumber: 'uint8_t',
  PipeCount: 'uint8_t',
  PipeArr: koffi.array(USBFN_PIPE_INFORMATION, MAX_NUM_USBFN_PIPES),
});

/** USBFN_CLASS_INTERFACE_EX. */
export const USBFN_CLASS_INTERFACE_EX = koffi.struct('USBFN_CLASS_INTERFACE_EX', {
  BaseInterfaceNumber: 'uint8_t',
  InterfaceCount: 'uint8_t',
  PipeCount: 'uint8_t',
  PipeArr: koffi.array(USBFN_PIPE_INFORMATION, MAX_NUM_USBFN_PIPES),
});

const wcharArray = (n: number) => koffi.array('uint16_t', n, 'Array');

/** USBFN_CLASS_INFORMATION_PACKET (748 bytes): GET_CLASS_INFO's output. */
export const USBFN_CLASS_INFORMATION_PACKET = koffi.struct('USBFN_CLASS_INFORMATION_PACKET', {
  FullSpeedClassInterface: USBFN_CLASS_INTERFACE,
  HighSpeedClassInterface: USBFN_CLASS_INTERFACE,
  InterfaceName: wcharArray(MAX_INTERFACE_NAME_LENGTH),
  InterfaceGuid: wcharArray(MAX_INTERFACE_GUID_LENGTH),
  HasInterfaceGuid: 'uint8_t',
  SuperSpeedClassInterface: USBFN_CLASS_INTERFACE,
});

/** USBFN_CLASS_INFORMATION_PACKET_EX (748 bytes): GET_CLASS_INFO_EX's output. */
export const USBFN_CLASS_INFORMATION_PACKET_EX = koffi.struct('USBFN_CLASS_INFORMATION_PACKET_EX', {
  FullSpeedClassInterfaceEx: USBFN_CLASS_INTERFACE_EX,
  HighSpeedClassInterfaceEx: USBFN_CLASS_INTERFACE_EX,
  SuperSpeedClassInterfaceEx: USBFN_CLASS_INTERFACE_EX,
  InterfaceName: wcharArray(MAX_INTERFACE_NAME_LENGTH),
  InterfaceGuid: wcharArray(MAX_INTERFACE_GUID_LENGTH),
  HasInterfaceGuid: 'uint8_t',
});

/** USBFN_INTERFACE_INFO: a 12-byte header whose last member `InterfaceDescriptorSet[1]` opens the tail. */
export const USBFN_INTERFACE_INFO = koffi.struct('USBFN_INTERFACE_INFO', {
  InterfaceNumber: 'uint8_t',
  Speed: 'uint32_t',
  Size: 'uint16_t',
  InterfaceDescriptorSet: koffi.array('uint8_t', 1),
});

/** USBFN_USB_STRING (512 bytes): REGISTER_USB_STRING's input. */
export const USBFN_USB_STRING = koffi.struct('USBFN_USB_STRING', {
  StringIndex: 'uint8_t',
  UsbString: wcharArray(MAX_USB_STRING_LENGTH),
});
