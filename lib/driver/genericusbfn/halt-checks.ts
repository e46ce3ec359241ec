/**
 * HaltChecks: the data pipes on which a transfer failed with ERROR_GEN_FAILURE and the driver is
 * still asking GET_PIPE_STATE whether a halt caused it (GenericUsbFnDriver reports STALLED if so).
 *
 * Why new transfers on such a pipe are refused: the failed transfer reaches its caller only after
 * that round trip. A host that halts a pipe and clears it meanwhile (a halt is commonly cleared
 * within milliseconds) would take a transfer the caller issued after the failed one, say on the
 * completion of an earlier one, ahead of the failed one's re-send: the host would see data out of
 * order. Refusing it with the same STALLED means everything from the failed transfer on is
 * re-sent, in order, once the halt is gone (the soak's hostStall faults found this).
 */
import { ioctlName } from '../../../native-defs/ioctl.js';
import { ERROR_GEN_FAILURE } from '../../../native-defs/win32-errors.js';
import { ErrorCodes, UsbFnError, isUsbFnError } from '../../errors.js';

export class HaltChecks {
  /** Checks under way per pipe id; empty nearly always, so the hot path tests `size` only. */
  private readonly pending = new Map<number, number>();

  /** True for a failure the driver asks GET_PIPE_STATE about. */
  static needsCheck(err: unknown): boolean {
    return isUsbFnError(err) && err.win32Error === ERROR_GEN_FAILURE;
  }

  /** STALLED for a transfer on `pipeId` while a check of an earlier failure there is under way, else null. */
  refusal(pipeId: number, code: number): UsbFnError | null {
    if (this.pending.size === 0 || !this.pending.has(pipeId)) return null;
    return new UsbFnError(ErrorCodes.STALLED, `pipe ${pipeId}: an earlier transfer failed on a halt being checked`, {
      win32Error: ERROR_GEN_FAILURE,
      operation: ioctlName(code),
    });
  }

  /** Runs `check` for a failure on `pipeId`, refusing transfers there until it settles. */
  async during<T>(pipeId: number, check: () => Promise<T>): Promise<T> {
    this.pending.set(pipeId, (this.pending.get(pipeId) ?? 0) + 1);
    try {
      return await check();
    } finally {
      const left = this.pending.get(pipeId)! - 1;
      if (left === 0) this.pending.delete(pipeId);
      else this.pending.set(pipeId, left);
    }
  }
}
