export { GenericUsbFnDriver, type GenericUsbFnDriverOptions } from './generic-driver.js';
export { IoctlError, type IoctlDevice } from './ioctl-device.js';
export { codeForWin32 } from './errors.js';
export { Win32IoctlDevice } from './win32-device.js';
export { openWin32Device, listDeviceInterfaces } from './win32-discovery.js';
export { watchDeviceInterfaces, DeviceInterfaceWatcher } from './win32-watch.js';
export { win32DriverOpener } from './win32-opener.js';
export { configureWin32Libraries, type Win32LibraryNames } from './win32-library.js';
