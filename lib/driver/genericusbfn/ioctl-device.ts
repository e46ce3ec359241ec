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

/**
 * Where a device that has `ioctlTo` reports one request's outcome: exactly one of the two, once.
 * Functions, not methods (called without `this`).
 */
export interface IoctlSink {
  /** lpBytesReturned, as `ioctl` would resolve with it (unclamped). */
  readonly done: (bytes: number) => void;
  /** The IoctlError (or other error) `ioctl` would reject with. */
  readonly failed: (err: unknown) => void;
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

  /**
   * Optional, the hot path's entry: as `ioctl`, with the outcome reported to `sink` instead of a
   * promise, so a device that settles from its own completion loop (Win32IoctlDevice's harvester)
   * costs no promise and no microtask per request. Rules, which callers rely on:
   * - never calls `sink` synchronously inside `ioctlTo` (a refusal or an immediate failure is
   *   reported later, and still before any completion the device reports after it);
   * - outcomes reach their sinks in the order the device completed them (for Win32, the order the
   *   completion port delivered them), failures included;
   * - a sink may issue new requests from within its call; a sink that throws does not stop the
   *   device from reporting the others (the error surfaces as an unhandled rejection, as a throw
   *   in a `.then` handler would).
   */
  ioctlTo?(code: number, input: Uint8Array | null, output: Uint8Array | null, signal: AbortSignal | undefined, sink: IoctlSink): void;

  /** Cancels everything pending, waits until each has completed, then releases the handle. Idempotent. */
  close(): Promise<void>;
}
