/**
 * What PipeEndpoint.classify and the reader and writer share about failed transfers: the kinds a
 * failure is sorted into, the retry budget for bare ERROR_GEN_FAILUREs, and how many bytes a
 * cancelled transfer had moved before it failed.
 */

/**
 * How a failed transfer is handled: bus loss (re-issue after the next configuration), our own
 * abort, a stall, a retry (re-issue now), or fatal.
 */
export type FailureKind = 'bus' | 'aborted' | 'stall' | 'retry' | 'fatal';

/**
 * ERROR_GEN_FAILUREs in a row retried at once, per transfer the endpoint keeps outstanding. A
 * transfer issued on a pipe the host halted fails with ERROR_GEN_FAILURE; the driver reports
 * STALLED only if GET_PIPE_STATE still says halted, and a host that clears the halt before that
 * round trip leaves a bare driver error (the fault soak found it). Re-issuing is then right; a
 * driver that keeps failing still fails the stream.
 */
export const GEN_FAILURE_RETRIES = 3;
/** Win32 ERROR_GEN_FAILURE, as a driver error's win32Error carries it. */
export const ERROR_GEN_FAILURE = 31;

/**
 * Bytes a cancelled transfer had moved (received, or sent and taken by the host): the error's
 * `bytesTransferred`, or the count the device reported with the failure (IoctlError.bytesReturned,
 * kept as `cause`), clamped to `capacity`: a driver's count is never trusted past the buffer.
 */
export function bytesBeforeCancel(err: unknown, capacity: number): number {
  const e = err as { bytesTransferred?: unknown; cause?: { bytesReturned?: unknown } } | null;
  const n = e?.bytesTransferred ?? e?.cause?.bytesReturned;
  return typeof n === 'number' && Number.isInteger(n) && n > 0 ? Math.min(n, capacity) : 0;
}
