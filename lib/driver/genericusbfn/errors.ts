/**
 * Win32 error → UsbFnError, in one place, so every IOCTL failure carries the same stable code,
 * the Win32 number and name, and the IOCTL that failed.
 */
import {
  ERROR_DEVICE_NOT_CONNECTED,
  ERROR_FILE_NOT_FOUND,
  ERROR_INSUFFICIENT_BUFFER,
  ERROR_BAD_COMMAND,
  ERROR_INVALID_STATE,
  ERROR_INVALID_HANDLE,
  ERROR_INVALID_PARAMETER,
  ERROR_NOT_SUPPORTED,
  ERROR_OPERATION_ABORTED,
  win32ErrorName,
} from '../../../native-defs/win32-errors.js';
import { ioctlName } from '../../../native-defs/ioctl.js';
import { ErrorCodes, UsbFnError, type UsbFnErrorCode } from '../../errors.js';
import { IoctlError } from './ioctl-device.js';

const CODE_BY_WIN32: Readonly<Record<number, UsbFnErrorCode>> = {
  [ERROR_OPERATION_ABORTED]: ErrorCodes.CANCELED,
  [ERROR_DEVICE_NOT_CONNECTED]: ErrorCodes.DISCONNECTED,
  [ERROR_INSUFFICIENT_BUFFER]: ErrorCodes.INSUFFICIENT_BUFFER,
  [ERROR_INVALID_PARAMETER]: ErrorCodes.INVALID_ARG,
  [ERROR_NOT_SUPPORTED]: ErrorCodes.NOT_SUPPORTED,
  [ERROR_INVALID_HANDLE]: ErrorCodes.CLOSED,
  [ERROR_FILE_NOT_FOUND]: ErrorCodes.NOT_FOUND,
  [ERROR_BAD_COMMAND]: ErrorCodes.INVALID_STATE,
  [ERROR_INVALID_STATE]: ErrorCodes.INVALID_STATE,
};

/** The UsbFnError code for a Win32 error number (USBFN_ERR_DRIVER for the rest, e.g. ERROR_GEN_FAILURE). */
export function codeForWin32(errno: number): UsbFnErrorCode {
  return CODE_BY_WIN32[errno] ?? ErrorCodes.DRIVER;
}

/** Wraps whatever an IoctlDevice threw for `code` into a UsbFnError (already-coded errors pass through). */
export function ioctlFailure(err: unknown, code: number): UsbFnError {
  if (err instanceof UsbFnError) return err;
  const operation = ioctlName(code) ?? `IOCTL 0x${code.toString(16)}`;
  if (err instanceof IoctlError) {
    return new UsbFnError(codeForWin32(err.errno), `${operation} failed: ${win32ErrorName(err.errno)} (${err.errno})`, {
      cause: err,
      win32Error: err.errno,
      operation,
    });
  }
  return new UsbFnError(ErrorCodes.DRIVER, `${operation} failed: ${String((err as Error)?.message ?? err)}`, { cause: err, operation });
}
