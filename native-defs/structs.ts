/**
 * koffi type definitions of every struct in genericusbfn.md §5, marked with the C type each
 * matches. `usbspec.h` structs are packed to 1 (koffi.pack); `usbfnbase.h` structs use natural
 * alignment (koffi.struct). WCHAR is `uint16_t`: koffi's `wchar_t` is 4 bytes on Linux.
 *
 * These types document the ABI and are pinned by tests against the spec's sizes and offsets;
 * hot paths encode with Buffer/DataView instead (codec.ts), which costs next to nothing where a
 * koffi encode costs microseconds (performance-notes.md). Defining types loads no DLL.
 */
import koffi from 'koffi';

export const MAX_NUM_USBFN_ENDPOINTS = 15;
export const MAX_NUM_USBFN_PIPES = 16;
export const MAX_INTERFACE_NAME_LENGTH = 40;
export const MAX_INTERFACE_GUID_LENGTH = 39;
export const MAX_USB_STRING_LENGTH = 255;

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

/** Byte sizes and field offsets used by codec.ts, tested equal to koffi's and to the spec. */
export const LAYOUT = Object.freeze({
  SETUP_PACKET_SIZE: 8,
  ENDPOINT_DESCRIPTOR_SIZE: 7,
  INTERFACE_DESCRIPTOR_SIZE: 9,
  NOTIFICATION_SIZE: 12,
  NOTIFICATION_UNION_OFFSET: 4,
  PIPE_INFORMATION_SIZE: 12,
  PIPE_INFORMATION_PIPE_ID_OFFSET: 8,
  CLASS_INTERFACE_SIZE: 196,
  CLASS_INTERFACE_PIPES_OFFSET: 4,
  CLASS_INFO_SIZE: 748,
  CLASS_INFO_FULL_OFFSET: 0,
  CLASS_INFO_HIGH_OFFSET: 196,
  CLASS_INFO_NAME_OFFSET: 392,
  CLASS_INFO_GUID_OFFSET: 472,
  CLASS_INFO_HAS_GUID_OFFSET: 550,
  CLASS_INFO_SUPER_OFFSET: 552,
  CLASS_INFO_EX_FULL_OFFSET: 0,
  CLASS_INFO_EX_HIGH_OFFSET: 196,
  CLASS_INFO_EX_SUPER_OFFSET: 392,
  CLASS_INFO_EX_NAME_OFFSET: 588,
  CLASS_INFO_EX_GUID_OFFSET: 668,
  CLASS_INFO_EX_HAS_GUID_OFFSET: 746,
  INTERFACE_INFO_SIZE: 12,
  INTERFACE_INFO_SPEED_OFFSET: 4,
  INTERFACE_INFO_SIZE_OFFSET: 8,
  INTERFACE_INFO_SET_OFFSET: 10,
  USB_STRING_SIZE: 512,
  USB_STRING_TEXT_OFFSET: 2,
  PIPE_ID_SIZE: 4,
  BOOLEAN_SIZE: 1,
});
