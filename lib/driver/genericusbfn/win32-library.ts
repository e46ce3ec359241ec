/**
 * The one place that decides which shared libraries the koffi Win32 backend loads. On Windows it
 * is kernel32.dll, cfgmgr32.dll and ntdll.dll. Anywhere else there is nothing to load unless a caller (the
 * tests, the benchmark) configured a library that exports the same functions with the same ABI:
 * test/win32-standin's stand-in. Nothing else in the backend knows it is not on Windows.
 */
import { ErrorCodes, UsbFnError } from '../../errors.js';

/** Paths or names handed to koffi.load for each DLL the backend uses. */
export interface Win32LibraryNames {
  kernel32: string;
  cfgmgr32: string;
  /** NtDeviceIoControlFile and RtlNtStatusToDosError; defaults to the `kernel32` library. */
  ntdll?: string;
}

const WINDOWS: Win32LibraryNames = Object.freeze({ kernel32: 'kernel32.dll', cfgmgr32: 'cfgmgr32.dll', ntdll: 'ntdll.dll' });

let configured: Win32LibraryNames | null = null;
let resolved: Win32LibraryNames | null = null;

/**
 * Loads `names` instead of the system DLLs (a stand-in library with kernel32's and cfgmgr32's
 * exports), or restores the default with null. Must be called before the backend first loads a
 * library; afterwards a different choice throws (koffi cannot unload what it loaded).
 */
export function configureWin32Libraries(names: Win32LibraryNames | null): void {
  const same = names && names.kernel32 === resolved?.kernel32 && names.cfgmgr32 === resolved.cfgmgr32 &&
    (names.ntdll ?? names.kernel32) === resolved.ntdll;
  if (resolved && !same) {
    throw new UsbFnError(ErrorCodes.INVALID_STATE, 'the Win32 libraries are already loaded; configure them before first use');
  }
  configured = names ? Object.freeze({ ...names, ntdll: names.ntdll ?? names.kernel32 }) : null;
}

/**
 * The libraries to load: the configured ones, else the system DLLs on Windows. Throws a
 * UsbFnError USBFN_ERR_PLATFORM elsewhere: GenericUSBFn.sys exists only on Windows.
 */
export function win32LibraryNames(): Win32LibraryNames {
  if (resolved) return resolved;
  const names = configured ?? (process.platform === 'win32' ? WINDOWS : null);
  if (!names) {
    throw new UsbFnError(
      ErrorCodes.PLATFORM,
      `the GenericUSBFn.sys backend needs Windows (kernel32, cfgmgr32); this is ${process.platform}. ` +
        'Use the emulator (usbfn/emulator) or another backend here.',
      { operation: 'open' },
    );
  }
  resolved = names;
  return names;
}
