/**
 * The hook UsbFnDevice.open() calls when it is given no `driver`: find and open a platform
 * backend by interface GUID or device path: the koffi GenericUSBFn.sys backend by default (off
 * Windows: USBFN_ERR_PLATFORM), replaceable at run time through setPlatformDriverOpener.
 */
import type { UsbFnDriver } from '../driver/driver.js';
import type { FunctionFsTarget } from '../driver/functionfs/opener.js';
import { ErrorCodes, UsbFnError } from '../errors.js';

/** Where the platform backend finds the device. */
export interface PlatformTarget {
  /** The InterfaceGUID the registry declares for the GenericUSBFn interface ('{…}'). */
  interfaceGuid?: string;
  /** A device interface path (symbolic link) to open directly. */
  path?: string;
  /**
   * Linux: the FunctionFS backend (an existing mount, or a gadget usbfn sets up as root). Used
   * when given, or on Linux when neither `interfaceGuid` nor `path` is.
   */
  functionfs?: FunctionFsTarget;
  signal?: AbortSignal;
}

/** Opens a UsbFnDriver for a target; rejects with a UsbFnError (NOT_FOUND, PLATFORM, DRIVER…). */
export type PlatformDriverOpener = (target: PlatformTarget) => Promise<UsbFnDriver>;

/**
 * The built-in opener: FunctionFS on Linux (given `functionfs`, or neither GUID nor path), else
 * the GenericUSBFn.sys backend (koffi); each imported only when first used so that importing
 * usbfn loads no FFI declarations. Off Windows it rejects with USBFN_ERR_PLATFORM
 * (naming the emulator as the way to run elsewhere), unless a stand-in library was configured
 * with configureWin32Libraries(), as the tests do.
 */
export const defaultOpener: PlatformDriverOpener = async (target) => {
  if (target.functionfs || (process.platform === 'linux' && target.interfaceGuid === undefined && target.path === undefined)) {
    const { openFunctionFs } = await import('../driver/functionfs/opener.js');
    return openFunctionFs(target.functionfs);
  }
  const { win32DriverOpener } = await import('../driver/genericusbfn/win32-opener.js');
  return win32DriverOpener()(target);
};

let opener: PlatformDriverOpener = defaultOpener;

/** The opener UsbFnDevice.open() uses without a `driver`. */
export function platformDriverOpener(): PlatformDriverOpener {
  return opener;
}

/** Replaces the opener (the Windows backend registers itself; tests may stub it). Returns the previous one. */
export function setPlatformDriverOpener(next: PlatformDriverOpener): PlatformDriverOpener {
  if (typeof next !== 'function') throw new UsbFnError(ErrorCodes.INVALID_ARG, 'setPlatformDriverOpener takes a function');
  const previous = opener;
  opener = next;
  return previous;
}
