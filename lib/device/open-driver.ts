/**
 * The hook UsbFnDevice.open() calls when it is given no `driver`: find and open a platform
 * backend by interface GUID or device path: the koffi GenericUSBFn.sys backend by default (off
 * Windows: USBFN_ERR_PLATFORM), replaceable at run time through setPlatformDriverOpener.
 */
import type { UsbFnDriver } from '../driver/driver.js';
import type { FunctionFsTarget } from '../driver/functionfs/opener.js';
import { ErrorCodes, UsbFnError } from '../errors.js';
import { checkGuid, checkOneOf, checkOptions, checkSignal, checkType, describe, invalidArg } from '../validate.js';

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
  if (target.interfaceGuid === undefined && target.path === undefined && process.platform !== 'win32') {
    throw new UsbFnError(
      ErrorCodes.PLATFORM,
      `UsbFnDevice.open(): usbfn has no backend for ${process.platform} yet (GenericUSBFn.sys is Windows-only; FunctionFS is Linux-only). ` +
        "To run here, pass { driver: new GenericUsbFnDriver(new EmulatedGenericUsbFn()) } ('usbfn' and 'usbfn/emulator'), " +
        'or register your own backend with setPlatformDriverOpener().',
      { operation: 'UsbFnDevice.open' },
    );
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

/** Every UsbFnDevice.open() option; anything else is a typo worth an error. */
const OPEN_OPTIONS = ['driver', 'interfaceGuid', 'path', 'functionfs', 'signal', 'noDataHandshake'] as const;

/** The methods open() and the device call on a driver: enough to tell a UsbFnDriver from anything else. */
const DRIVER_METHODS = ['getClassInfo', 'activate', 'nextBusEvent', 'transferIn', 'transferOut', 'setPipeState', 'close'] as const;

/**
 * Checks UsbFnDevice.open()'s options before anything is opened: known keys, types, a GUID that
 * parses, and a `driver` that is a UsbFnDriver. An IoctlDevice passed as the driver (the
 * emulator, a Win32 device) is the usual slip: the message says to wrap it. Throws INVALID_ARG.
 */
export function checkOpenOptions(options: unknown): void {
  const op = 'UsbFnDevice.open';
  checkOptions(op, options, OPEN_OPTIONS);
  const o = (options ?? {}) as Record<string, unknown>;
  checkGuid(op, 'interfaceGuid', o.interfaceGuid);
  checkType(op, 'path', o.path, 'string');
  checkSignal(op, o.signal);
  checkOneOf(op, 'noDataHandshake', o.noDataHandshake, ['out', 'in']);
  if (o.driver === undefined) return;
  if (o.interfaceGuid !== undefined || o.path !== undefined || o.functionfs !== undefined) {
    throw invalidArg(op, 'pass either driver or interfaceGuid / path / functionfs, not both (a driver is already open on its device)');
  }
  checkDriver(op, o.driver);
}

function checkDriver(op: string, driver: unknown): void {
  const d = driver as Record<string, unknown> | null;
  if (d !== null && typeof d === 'object' && DRIVER_METHODS.every((m) => typeof d[m] === 'function')) return;
  if (d !== null && typeof d === 'object' && typeof d.ioctl === 'function') {
    throw invalidArg(
      op,
      `driver is ${describe(driver)}, an IoctlDevice (the device handle), not a UsbFnDriver: ` +
        'wrap it, as in { driver: new GenericUsbFnDriver(new EmulatedGenericUsbFn()) }',
    );
  }
  throw invalidArg(
    op,
    `driver must be a UsbFnDriver such as new GenericUsbFnDriver(new EmulatedGenericUsbFn()), got ${describe(driver)}; ` +
      'omit it to open the platform backend by interfaceGuid or path',
  );
}
