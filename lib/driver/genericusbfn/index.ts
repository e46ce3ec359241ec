// The portable half of the GenericUSBFn.sys backend: marshalling over any IoctlDevice (the
// emulator, or the Win32 device). The koffi half is in ../../windows/index.ts (usbfn/windows), kept
// out of here so that importing usbfn maps no native library.
export { GenericUsbFnDriver, type GenericUsbFnDriverOptions } from './generic-driver.js';
export { IoctlError, type IoctlDevice } from './ioctl-device.js';
export { codeForWin32 } from './errors.js';
