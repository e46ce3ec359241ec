/**
 * One error class for the whole library, after undici: users match on the stable `code`, never
 * on the message. Driver failures carry the Win32 error number and name; wrapped failures keep
 * the original as `cause`. Linux syscall failures carry `errno` and `syscall` instead.
 */
import { win32ErrorName } from '../native-defs/win32-errors.js';

export const ErrorCodes = Object.freeze({
  /** The operation was cancelled: AbortSignal, close(), or the bus (reset/detach/unconfigure). */
  CANCELED: 'USBFN_ERR_CANCELED',
  /** The cable is gone (ERROR_DEVICE_NOT_CONNECTED) or the device was detached mid-operation. */
  DISCONNECTED: 'USBFN_ERR_DISCONNECTED',
  /** The pipe is halted: the transfer failed on a stalled endpoint. */
  STALLED: 'USBFN_ERR_STALLED',
  /** Something did not answer in time (the simulated host waiting on EP0, for example). */
  TIMEOUT: 'USBFN_ERR_TIMEOUT',
  /** A caller passed something invalid (or the driver said ERROR_INVALID_PARAMETER). */
  INVALID_ARG: 'USBFN_ERR_INVALID_ARG',
  /** The request is not allowed in the current state (before ACTIVATE, before Configured…). */
  INVALID_STATE: 'USBFN_ERR_INVALID_STATE',
  /** The driver refused the request as not supported (ERROR_NOT_SUPPORTED). */
  NOT_SUPPORTED: 'USBFN_ERR_NOT_SUPPORTED',
  /** The output buffer was too small (ERROR_INSUFFICIENT_BUFFER) and could not be grown. */
  INSUFFICIENT_BUFFER: 'USBFN_ERR_INSUFFICIENT_BUFFER',
  /** The driver returned data that cannot be right (a length past the buffer, a bad count). */
  MALFORMED: 'USBFN_ERR_MALFORMED',
  /** The device, driver or stream was closed before or during the operation. */
  CLOSED: 'USBFN_ERR_CLOSED',
  /** A setup request was answered twice. */
  ALREADY_ANSWERED: 'USBFN_ERR_ALREADY_ANSWERED',
  /** A bounded buffer filled up because its consumer was too slow (device.events() past its limit). */
  OVERFLOW: 'USBFN_ERR_OVERFLOW',
  /** No device matched (ERROR_FILE_NOT_FOUND, no interface with that GUID). */
  NOT_FOUND: 'USBFN_ERR_NOT_FOUND',
  /** The backend needs another platform (the Windows driver off Windows), or a missing OS feature (configfs, usb_f_fs, a UDC, root). */
  PLATFORM: 'USBFN_ERR_PLATFORM',
  /** The far end answered a request with an error (message channel: an error response). */
  REMOTE: 'USBFN_ERR_REMOTE',
  /** Any other driver failure: see `win32Error` / `win32ErrorName` and `cause`. */
  DRIVER: 'USBFN_ERR_DRIVER',
} as const);

export type UsbFnErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export interface UsbFnErrorOptions {
  cause?: unknown;
  /** Win32 error number when the failure came from the driver or kernel32. */
  win32Error?: number;
  /** The IOCTL or API that failed, for messages and debugging. */
  operation?: string;
  /** Linux errno (positive) when the failure came from a syscall (the FunctionFS backend). */
  errno?: number;
  /** The Linux syscall that failed ('io_submit', 'write', 'ioctl'…), with `errno`. */
  syscall?: string;
}

export class UsbFnError extends Error {
  readonly code: UsbFnErrorCode;
  readonly win32Error?: number;
  readonly win32ErrorName?: string;
  readonly operation?: string;
  /** Linux errno (positive), as `win32Error` is for Windows. */
  readonly errno?: number;
  /** The Linux syscall that failed, with `errno`. */
  readonly syscall?: string;

  constructor(code: UsbFnErrorCode, message: string, options: UsbFnErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'UsbFnError';
    this.code = code;
    if (options.win32Error !== undefined) {
      this.win32Error = options.win32Error;
      this.win32ErrorName = win32ErrorName(options.win32Error);
    }
    if (options.operation !== undefined) this.operation = options.operation;
    if (options.errno !== undefined) this.errno = options.errno;
    if (options.syscall !== undefined) this.syscall = options.syscall;
  }
}

/** True for a UsbFnError, optionally of the given code. */
export function isUsbFnError(err: unknown, code?: UsbFnErrorCode): err is UsbFnError {
  return err instanceof UsbFnError && (code === undefined || err.code === code);
}

/** The error an aborted AbortSignal turns into: CANCELED, with the signal's reason as cause. */
export function canceledError(operation: string, reason?: unknown): UsbFnError {
  return new UsbFnError(ErrorCodes.CANCELED, `${operation} was canceled`, { cause: reason, operation });
}
