/**
 * The Windows backend as UsbFnDevice.open() reaches it without a `driver`: a PlatformDriverOpener
 * (lib/device/open-driver.ts) that finds the GenericUSBFn.sys interface by GUID or path and returns
 * GenericUsbFnDriver on a Win32IoctlDevice. Registering it is the caller's choice
 * (setPlatformDriverOpener), so importing the package never loads a DLL.
 */
import { canceledError, ErrorCodes, UsbFnError } from '../../errors.js';
import type { PlatformDriverOpener } from '../../device/open-driver.js';
import { GenericUsbFnDriver, type GenericUsbFnDriverOptions } from './generic-driver.js';
import { openWin32Device } from './win32-discovery.js';

/**
 * An opener for `target.path` (a symbolic link) or else `target.interfaceGuid` (the first present
 * interface). Throws what openWin32Device throws: NOT_FOUND, INVALID_ARG, DRIVER, and PLATFORM
 * off Windows unless a stand-in library was configured.
 */
export function win32DriverOpener(driverOptions?: GenericUsbFnDriverOptions): PlatformDriverOpener {
  return async (target) => {
    if (target.signal?.aborted) throw canceledError('UsbFnDevice.open', target.signal.reason);
    if (target.path === undefined && target.interfaceGuid === undefined) {
      throw new UsbFnError(ErrorCodes.INVALID_ARG, 'opening GenericUSBFn.sys needs interfaceGuid (the registry InterfaceGUID) or path', {
        operation: 'UsbFnDevice.open',
      });
    }
    const device = openWin32Device(target.path !== undefined ? { symbolicLink: target.path } : { interfaceGuid: target.interfaceGuid });
    return new GenericUsbFnDriver(device, driverOptions);
  };
}
