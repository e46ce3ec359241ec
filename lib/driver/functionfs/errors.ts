/**
 * Linux errno → UsbFnError for the FunctionFS backend. Every error carries `errno` and
 * `syscall`; the stable `code` says what it means for the caller (what FunctionFS means by it,
 * per drivers/usb/gadget/function/f_fs.c).
 */
import { constants } from 'node:os';
import { ErrorCodes, UsbFnError, type UsbFnErrorCode } from '../../errors.js';

const E = constants.errno;

/** errno values of FunctionFS with their meaning (codes absent from os.constants on old Nodes fall back to numbers). */
export const Errno = Object.freeze({
  EPERM: E.EPERM, ENOENT: E.ENOENT, EINTR: E.EINTR, EBADF: E.EBADF, EAGAIN: E.EAGAIN, EACCES: E.EACCES,
  EBUSY: E.EBUSY, ENODEV: E.ENODEV, EINVAL: E.EINVAL, EPIPE: E.EPIPE, ENOSYS: E.ENOSYS,
  EIDRM: E.EIDRM ?? 43, EL2HLT: 51, EBADMSG: E.EBADMSG ?? 74, EOVERFLOW: E.EOVERFLOW ?? 75,
  ECONNRESET: E.ECONNRESET, ESHUTDOWN: 108, ECANCELED: E.ECANCELED ?? 125,
});

const NAMES = new Map<number, string>(Object.entries(Errno).map(([k, v]) => [v, k]));

/** The errno's symbolic name, or 'errno N'. */
export function errnoName(errno: number): string {
  return NAMES.get(errno) ?? `errno ${errno}`;
}

const MEANING: Record<number, [UsbFnErrorCode, string]> = {
  [Errno.ESHUTDOWN]: [ErrorCodes.CANCELED, 'the endpoint was disabled (host reset, unconfigure or disconnect)'],
  [Errno.ECONNRESET]: [ErrorCodes.CANCELED, 'the request was dequeued'],
  [Errno.ECANCELED]: [ErrorCodes.CANCELED, 'the request was canceled'],
  [Errno.EAGAIN]: [ErrorCodes.CANCELED, 'the endpoint is not enabled (the host has not configured the function)'],
  [Errno.EIDRM]: [ErrorCodes.CANCELED, 'a newer setup packet (or a disconnect) superseded the request'],
  [Errno.EL2HLT]: [ErrorCodes.STALLED, 'EP0 I/O in the wrong direction stalled the request'],
  [Errno.EBADMSG]: [ErrorCodes.STALLED, 'I/O in the wrong direction halted the endpoint'],
  [Errno.EPIPE]: [ErrorCodes.STALLED, 'the endpoint is halted'],
  [Errno.ENODEV]: [ErrorCodes.DISCONNECTED, 'the function is not bound (FunctionFS is not active)'],
  [Errno.EINVAL]: [ErrorCodes.INVALID_ARG, 'the kernel refused the arguments'],
  [Errno.EBUSY]: [ErrorCodes.INVALID_STATE, 'FunctionFS is busy (no setup request pending, or in use)'],
  [Errno.ENOENT]: [ErrorCodes.NOT_FOUND, 'no such file'],
  [Errno.ENOSYS]: [ErrorCodes.NOT_SUPPORTED, 'the kernel lacks this syscall'],
};

/** A UsbFnError for `errno` (positive) from `syscall`, with what FunctionFS means by it. */
export function errnoError(errno: number, syscall: string, what: string): UsbFnError {
  const [code, meaning] = MEANING[errno] ?? [ErrorCodes.DRIVER, 'the kernel refused the request'];
  return new UsbFnError(code, `${what}: ${syscall} failed with ${errnoName(errno)}: ${meaning}`, { errno, syscall, operation: what });
}

/** A UsbFnError from a Node fs error (which carries `errno` negative and `syscall`). */
export function fromNodeError(err: unknown, what: string): UsbFnError {
  const e = err as NodeJS.ErrnoException;
  if (typeof e?.errno === 'number') {
    const out = errnoError(Math.abs(e.errno), e.syscall ?? 'fs', what);
    return Object.assign(out, { cause: err });
  }
  return new UsbFnError(ErrorCodes.DRIVER, `${what}: ${String((err as Error)?.message ?? err)}`, { cause: err, operation: what });
}
