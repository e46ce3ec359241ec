/**
 * The one thing GenericUsbFnDriver needs from the platform: send an IOCTL, get a byte count.
 * Implemented by the koffi Win32 device (overlapped DeviceIoControl on a GenericUSBFn.sys
 * handle) and by the in-process emulator. Everything above this line is byte-for-byte the
 * same on both.
 */

/**
 * A DeviceIoControl failure: the Win32 error number the call (or its completion) reported.
 * `bytesReturned` is what the OVERLAPPED said alongside the error (0 when unknown).
 */
export class IoctlError extends Error {
  constructor(readonly errno: number, readonly bytesReturned = 0, message = `DeviceIoControl failed with Win32 error ${errno}`) {
    super(message);
    this.name = 'IoctlError';
  }
}

export interface IoctlDevice {
  /**
   * Issues one IOCTL, as DeviceIoControl(handle, code, input, output) on an overlapped handle.
   *
   * - `input` is lpInBuffer, `output` is lpOutBuffer (null for none). With METHOD_IN_DIRECT the
   *   device *reads* `output`; with METHOD_OUT_DIRECT it *writes* it. Both buffers must stay
   *   alive and unmoved, and must not be reused by the caller, until the promise settles.
   * - Resolves with lpBytesReturned (which the caller must still clamp to `output.length`:
   *   a device is never trusted beyond the buffer).
   * - Rejects with an IoctlError carrying the Win32 error (ERROR_OPERATION_ABORTED 995 when the
   *   request was cancelled by `signal`, by the bus, or by close()). Never rejects with 997.
   * - `signal` cancels this one request (CancelIoEx on its OVERLAPPED); the promise still settles
   *   only after the device has let go of the buffers.
   * - After close() every call rejects with ERROR_INVALID_HANDLE (6).
   */
  ioctl(code: number, input: Uint8Array | null, output: Uint8Array | null, signal?: AbortSignal): Promise<number>;

  /** Cancels everything pending, waits until each has completed, then releases the handle. Idempotent. */
  close(): Promise<void>;
}
