/**
 * usbfn/windows: the GenericUSBFn.sys backend's own API, for a service that wants more than
 * `UsbFnDevice.open({ interfaceGuid })`: list the device interfaces of a GUID, watch them come
 * and go, open one and hand it to GenericUsbFnDriver, or build the opener with driver options.
 *
 * ```ts
 * import { UsbFnDevice, GenericUsbFnDriver } from 'usbfn';
 * import { listDeviceInterfaces, openWin32Device, watchDeviceInterfaces } from 'usbfn/windows';
 *
 * const GUID = '{…}';                                        // the InterfaceGUID in the registry
 * console.log(listDeviceInterfaces(GUID));                   // symbolic links present now
 * const device = await UsbFnDevice.open({ driver: new GenericUsbFnDriver(openWin32Device({ interfaceGuid: GUID })) });
 * watchDeviceInterfaces(GUID).on('removal', (link) => console.log('gone', link));
 * ```
 *
 * Importing this entry loads koffi (its prebuilt native module); importing `usbfn` or
 * `usbfn/emulator` does not, and `UsbFnDevice.open({ interfaceGuid | path })` loads it only when
 * called. Every function here throws a UsbFnError USBFN_ERR_PLATFORM when first used off Windows.
 */
export { Win32IoctlDevice } from '../driver/genericusbfn/win32-device.js';
export { openWin32Device, listDeviceInterfaces, type OpenWin32DeviceOptions } from '../driver/genericusbfn/win32-discovery.js';
export {
  watchDeviceInterfaces,
  DeviceInterfaceWatcher,
  type WatchOptions,
  type DeviceInterfaceWatcherEvents,
} from '../driver/genericusbfn/win32-watch.js';
export { win32DriverOpener } from '../driver/genericusbfn/win32-opener.js';
