/**
 * The hook UsbFnDevice.open() calls when it is given no `driver`: find and open a platform
 * backend by interface GUID or device path. Off Windows there is none (USBFN_ERR_PLATFORM); on
 * Windows the koffi backend plugs in here (or at run time through setPlatformDriverOpener).
 */
import type { UsbFnDriver } from './driver/driver.js';
import { ErrorCodes, UsbFnError } from './errors.js';

/** Where the platform backend finds the device. */
export interface PlatformTarget {
  /** The InterfaceGUID the registry declares for the GenericUSBFn interface ('{…}'). */
  interfaceGuid?: string;
  /** A device interface path (symbolic link) to open directly. */
  path?: string;
  signal?: AbortSignal;
}

/** Opens a UsbFnDriver for a target; rejects with a UsbFnError (NOT_FOUND, PLATFORM, DRIVER…). */
export type PlatformDriverOpener = (target: PlatformTarget) => Promise<UsbFnDriver>;

/** The built-in opener: no backend on this platform yet. */
export const unavailableOpener: PlatformDriverOpener = async (target) => {
  const what = target.path ?? target.interfaceGuid ?? 'the default interface';
  if (process.platform !== 'win32') {
    throw new UsbFnError(ErrorCodes.PLATFORM, `opening ${what} needs Windows (GenericUSBFn.sys); on ${process.platform} pass { driver } (the emulator: usbfn/emulator)`, {
      operation: 'UsbFnDevice.open',
    });
  }
  throw new UsbFnError(ErrorCodes.PLATFORM, `opening ${what}: no Windows backend is registered in this build`, { operation: 'UsbFnDevice.open' });
};

let opener: PlatformDriverOpener = unavailableOpener;

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
