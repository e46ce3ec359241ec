/**
 * IOCTL codes of GenericUSBFn.sys (GenericUsbFnIoctl.h), each computed from the CTL_CODE macro's
 * arguments so a reader can check them against the header. Pure data: loads nothing.
 */

/** `FILE_DEVICE_UNKNOWN`: the device type every GenericUSBFn code uses. */
export const FILE_DEVICE_UNKNOWN = 0x22;

export const METHOD_BUFFERED = 0;
/** The driver reads lpOutBuffer (locked, not copied). */
export const METHOD_IN_DIRECT = 1;
/** The driver writes lpOutBuffer (locked, not copied). */
export const METHOD_OUT_DIRECT = 2;
export const METHOD_NEITHER = 3;

export const FILE_ANY_ACCESS = 0;
export const FILE_READ_DATA = 1;
export const FILE_WRITE_DATA = 2;

/** `CTL_CODE(type, fn, method, access)` from winioctl.h, as an unsigned 32-bit number. */
export function ctlCode(deviceType: number, fn: number, method: number, access: number): number {
  return ((deviceType << 16) | (access << 14) | (fn << 2) | method) >>> 0;
}

const RW = FILE_READ_DATA | FILE_WRITE_DATA;
const genericUsbFn = (fn: number, method: number) => ctlCode(FILE_DEVICE_UNKNOWN, fn, method, RW);

export const IOCTL_GENERICUSBFN_TRANSFER_IN = genericUsbFn(0x03, METHOD_IN_DIRECT);
export const IOCTL_GENERICUSBFN_TRANSFER_IN_APPEND_ZERO_PKT = genericUsbFn(0x04, METHOD_IN_DIRECT);
export const IOCTL_GENERICUSBFN_TRANSFER_OUT = genericUsbFn(0x05, METHOD_OUT_DIRECT);
export const IOCTL_GENERICUSBFN_CONTROL_STATUS_HANDSHAKE_IN = genericUsbFn(0x06, METHOD_BUFFERED);
export const IOCTL_GENERICUSBFN_CONTROL_STATUS_HANDSHAKE_OUT = genericUsbFn(0x07, METHOD_BUFFERED);
export const IOCTL_GENERICUSBFN_GET_CLASS_INFO = genericUsbFn(0x08, METHOD_OUT_DIRECT);
export const IOCTL_GENERICUSBFN_GET_PIPE_STATE = genericUsbFn(0x09, METHOD_OUT_DIRECT);
export const IOCTL_GENERICUSBFN_SET_PIPE_STATE = genericUsbFn(0x0a, METHOD_IN_DIRECT);
export const IOCTL_GENERICUSBFN_ACTIVATE_USB_BUS = genericUsbFn(0x0b, METHOD_BUFFERED);
export const IOCTL_GENERICUSBFN_DEACTIVATE_USB_BUS = genericUsbFn(0x0c, METHOD_BUFFERED);
export const IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION = genericUsbFn(0x0d, METHOD_OUT_DIRECT);
export const IOCTL_GENERICUSBFN_GET_CLASS_INFO_EX = genericUsbFn(0x0e, METHOD_OUT_DIRECT);
export const IOCTL_GENERICUSBFN_GET_INTERFACE_DESCRIPTOR_SET = genericUsbFn(0x0f, METHOD_OUT_DIRECT);
export const IOCTL_GENERICUSBFN_REGISTER_USB_STRING = genericUsbFn(0x10, METHOD_IN_DIRECT);

/** All 14 codes by SDK name; the order is the header's. */
export const GENERICUSBFN_IOCTLS = {
  IOCTL_GENERICUSBFN_TRANSFER_IN,
  IOCTL_GENERICUSBFN_TRANSFER_IN_APPEND_ZERO_PKT,
  IOCTL_GENERICUSBFN_TRANSFER_OUT,
  IOCTL_GENERICUSBFN_CONTROL_STATUS_HANDSHAKE_IN,
  IOCTL_GENERICUSBFN_CONTROL_STATUS_HANDSHAKE_OUT,
  IOCTL_GENERICUSBFN_GET_CLASS_INFO,
  IOCTL_GENERICUSBFN_GET_PIPE_STATE,
  IOCTL_GENERICUSBFN_SET_PIPE_STATE,
  IOCTL_GENERICUSBFN_ACTIVATE_USB_BUS,
  IOCTL_GENERICUSBFN_DEACTIVATE_USB_BUS,
  IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION,
  IOCTL_GENERICUSBFN_GET_CLASS_INFO_EX,
  IOCTL_GENERICUSBFN_GET_INTERFACE_DESCRIPTOR_SET,
  IOCTL_GENERICUSBFN_REGISTER_USB_STRING,
} as const;

export type GenericUsbFnIoctlName = keyof typeof GENERICUSBFN_IOCTLS;

const namesByCode = new Map<number, GenericUsbFnIoctlName>(
  Object.entries(GENERICUSBFN_IOCTLS).map(([name, code]) => [code, name as GenericUsbFnIoctlName]),
);

/** The SDK name of a code, or undefined for a code GenericUSBFn.sys does not define. */
export function ioctlName(code: number): GenericUsbFnIoctlName | undefined {
  return namesByCode.get(code >>> 0);
}

/** The transfer method (bits 0–1) of a code: tells which buffer the driver reads or writes. */
export function ioctlMethod(code: number): number {
  return code & 3;
}
