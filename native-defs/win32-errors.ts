/**
 * The Win32 error numbers GenericUSBFn.sys and kernel32 report that usbfn handles by name
 * (WinError.h numbers). Pure data.
 */
export const ERROR_SUCCESS = 0;
export const ERROR_FILE_NOT_FOUND = 2;
export const ERROR_INVALID_HANDLE = 6;
export const ERROR_GEN_FAILURE = 31;
export const ERROR_NOT_SUPPORTED = 50;
export const ERROR_INVALID_PARAMETER = 87;
export const ERROR_INSUFFICIENT_BUFFER = 122;
/** Returned by CancelIoEx when nothing was pending for that OVERLAPPED. */
export const ERROR_NOT_FOUND = 1168;
export const ERROR_OPERATION_ABORTED = 995;
/** Not an error: the request is queued and completes later through the OVERLAPPED. */
export const ERROR_IO_PENDING = 997;
export const ERROR_DEVICE_NOT_CONNECTED = 1167;

export const WIN32_ERROR_NAMES: Record<number, string> = {
  [ERROR_SUCCESS]: 'ERROR_SUCCESS',
  [ERROR_FILE_NOT_FOUND]: 'ERROR_FILE_NOT_FOUND',
  [ERROR_INVALID_HANDLE]: 'ERROR_INVALID_HANDLE',
  [ERROR_GEN_FAILURE]: 'ERROR_GEN_FAILURE',
  [ERROR_NOT_SUPPORTED]: 'ERROR_NOT_SUPPORTED',
  [ERROR_INVALID_PARAMETER]: 'ERROR_INVALID_PARAMETER',
  [ERROR_INSUFFICIENT_BUFFER]: 'ERROR_INSUFFICIENT_BUFFER',
  [ERROR_NOT_FOUND]: 'ERROR_NOT_FOUND',
  [ERROR_OPERATION_ABORTED]: 'ERROR_OPERATION_ABORTED',
  [ERROR_IO_PENDING]: 'ERROR_IO_PENDING',
  [ERROR_DEVICE_NOT_CONNECTED]: 'ERROR_DEVICE_NOT_CONNECTED',
};

/** `ERROR_…` name of a Win32 error number; `WIN32_ERROR_<n>` for one not listed here. */
export function win32ErrorName(errno: number): string {
  return WIN32_ERROR_NAMES[errno] ?? `WIN32_ERROR_${errno}`;
}

/**
 * ERROR_BAD_COMMAND: what a driver's STATUS_INVALID_DEVICE_STATE becomes in user mode
 * (RtlNtStatusToDosError). Not named by the spec: the emulator refuses a request made in the
 * wrong state with it (a transfer before ACTIVATE or before Configured, a handshake with no setup
 * packet waiting), the status a KMDF driver completes such requests with.
 */
export const ERROR_BAD_COMMAND = 22;
WIN32_ERROR_NAMES[ERROR_BAD_COMMAND] = 'ERROR_BAD_COMMAND';
/** ERROR_INVALID_STATE, which some drivers report instead: mapped the same way. */
export const ERROR_INVALID_STATE = 5023;
WIN32_ERROR_NAMES[ERROR_INVALID_STATE] = 'ERROR_INVALID_STATE';
