export { GenericUsbFnDriver, type GenericUsbFnDriverOptions } from './generic-driver.js';
export { IoctlError, type IoctlDevice } from './ioctl-device.js';
export { codeForWin32 } from './errors.js';
