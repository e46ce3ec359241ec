/**
 * Byte sizes, field offsets and array lengths of the GenericUSBFn.sys structs, as plain numbers:
 * what codec.ts and the drivers need. Pure data that loads no native code, so that importing
 * usbfn or usbfn/emulator maps no FFI library. The koffi definitions of the same structs are in
 * structs.ts, which the tests pin against these numbers.
 */
export const MAX_NUM_USBFN_ENDPOINTS = 15;
export const MAX_NUM_USBFN_PIPES = 16;
export const MAX_INTERFACE_NAME_LENGTH = 40;
export const MAX_INTERFACE_GUID_LENGTH = 39;
export const MAX_USB_STRING_LENGTH = 255;

/** Byte sizes and field offsets used by codec.ts, tested equal to koffi's (structs.ts) and to the spec. */
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
