/**
 * The data transfers of GenericUsbFnDriver (TRANSFER_IN / _APPEND_ZERO_PKT / TRANSFER_OUT): the
 * hot path. A BulkTransfer is a reusable slot (UsbFnDriver.openTransfer) with handlers bound once
 * per slot: where the device has `ioctlTo` (Win32IoctlDevice) its harvester calls them directly,
 * else each transfer is one `.then` on the device's promise; either way a transfer allocates no
 * closure, no option object and no promise of its own. transferIn / transferOut wrap a one-off
 * slot in a promise.
 *
 * Ordering, which the reliability tests hold: a failure reaches the sink the way a success would
 * (never overtaken by a later success; IoctlDevice.ioctlTo's rules say the same for a device's sink); only ERROR_GEN_FAILURE takes a round trip
 * (GET_PIPE_STATE, to report STALLED on a halted pipe), and while it does, HaltChecks refuses new
 * transfers on that pipe with STALLED so that nothing overtakes the failed one's re-send.
 */
import * as IOCTL from '../../../native-defs/ioctl.js';
import { ERROR_GEN_FAILURE } from '../../../native-defs/win32-errors.js';
import { ErrorCodes, UsbFnError, isUsbFnError } from '../../errors.js';
import type { TransferHandle, TransferInOptions, TransferSink } from '../driver.js';
import { ioctlFailure } from './errors.js';
import { HaltChecks } from './halt-checks.js';
import type { IoctlSink } from './ioctl-device.js';
import type { RequestGate } from './request-gate.js';

/** What the transfers need from their driver. */
export interface TransferContext {
  readonly gate: RequestGate;
  readonly haltChecks: HaltChecks;
  /** The cached USBFNPIPEID bytes; throws USBFN_ERR_INVALID_ARG for an id that is no u32. */
  pipeIdBytes(pipeId: number): Uint8Array;
  getPipeState(pipeId: number): Promise<boolean>;
  /** A checked request through the gate (EP0 data stages go this way). */
  ioctl(code: number, input: Uint8Array | null, output: Uint8Array | null, signal?: AbortSignal): Promise<number>;
}

const EMPTY = new Uint8Array(0);

/** The IOCTL a transfer in `direction` is. */
export function transferCode(direction: 'in' | 'out', options: TransferInOptions | undefined): number {
  if (direction === 'out') return IOCTL.IOCTL_GENERICUSBFN_TRANSFER_OUT;
  return options?.zlp ? IOCTL.IOCTL_GENERICUSBFN_TRANSFER_IN_APPEND_ZERO_PKT : IOCTL.IOCTL_GENERICUSBFN_TRANSFER_IN;
}

/**
 * The pipe id bytes for a transfer that may be issued, or the error it is refused with: a buffer
 * that is no Uint8Array, a bad pipe id, a closed driver, an aborted signal, or (data pipes) a halt
 * check under way on the pipe. EP0's refusals are its control path's own.
 */
export function admitTransfer(ctx: TransferContext, code: number, pipeId: number, buffer: unknown, signal: AbortSignal | undefined): Uint8Array | UsbFnError {
  if (!(buffer instanceof Uint8Array)) return new UsbFnError(ErrorCodes.INVALID_ARG, 'transfer buffer must be a Uint8Array');
  let pipeIdBytes: Uint8Array;
  try {
    pipeIdBytes = ctx.pipeIdBytes(pipeId);
  } catch (err) {
    return err as UsbFnError;
  }
  if (pipeId === 0) return pipeIdBytes;
  return ctx.gate.refusal(code, signal) ?? ctx.haltChecks.refusal(pipeId, code) ?? pipeIdBytes;
}

/** One reusable transfer slot reporting to `sink`; see the file comment. */
export class BulkTransfer implements TransferHandle {
  private code = 0;
  private pipeId = 0;
  private buffer: Uint8Array = EMPTY;

  constructor(private readonly ctx: TransferContext, private readonly direction: 'in' | 'out', private readonly sink: TransferSink) {}

  submit(pipeId: number, buffer: Uint8Array, options?: TransferInOptions): void {
    const code = transferCode(this.direction, options);
    const signal = options?.signal;
    const admitted = admitTransfer(this.ctx, code, pipeId, buffer, signal);
    // The rare paths are functions of their own: a closure here would make V8 allocate a
    // context for this frame on every call.
    if (admitted instanceof UsbFnError) return refuse(this.sink, admitted);
    if (pipeId === 0) return this.controlStage(code, admitted, buffer, signal);
    this.issue(code, pipeId, admitted, buffer, signal);
  }

  private controlStage(code: number, pipeIdBytes: Uint8Array, buffer: Uint8Array, signal: AbortSignal | undefined): void {
    const sink = this.sink;
    controlTransfer(this.ctx, code, pipeIdBytes, buffer, signal, this.direction === 'in').then((n) => sink.transferred(n), (err) => sink.transferFailed(err));
  }

  /** Issues an admitted data-pipe transfer (transferIn / transferOut call this after admitTransfer). */
  issue(code: number, pipeId: number, pipeIdBytes: Uint8Array, buffer: Uint8Array, signal: AbortSignal | undefined): void {
    this.code = code;
    this.pipeId = pipeId;
    this.buffer = buffer;
    this.ctx.gate.issueTo(code, pipeIdBytes, buffer, signal, this.completion);
  }

  // Bound once per slot: the sink may submit the next transfer from within, so each reads its
  // fields before it reports. What lpBytesReturned holds after TRANSFER_IN is open (the length,
  // or 0): either is accepted, anything beyond the buffer is not, and 'in' reports the length sent.
  private readonly onDone = (bytes: number): void => {
    this.ctx.gate.settled();
    const { code, buffer, sink } = this;
    this.buffer = EMPTY; // hold no caller's buffer between transfers
    let n: number;
    try {
      n = checkedBytes(code, bytes, buffer);
    } catch (err) {
      return sink.transferFailed(err);
    }
    sink.transferred(this.direction === 'in' ? buffer.length : n);
  };

  private readonly onFail = (err: unknown): void => {
    this.ctx.gate.settled();
    const { code, pipeId, sink, ctx } = this;
    this.buffer = EMPTY;
    const failure = ioctlFailure(err, code);
    // Reported at once: a failure reaches the sink in as many microtasks as a success, so a writer
    // learns that the bus cancelled a write before it acts on a later completion or on the bus
    // event that follows the cancellation. Only a possible halt takes the round trip below.
    if (!HaltChecks.needsCheck(failure) || ctx.gate.closing) return sink.transferFailed(failure);
    void ctx.haltChecks.during(pipeId, () => explainTransferFailure(ctx, failure, pipeId)).then((explained) => sink.transferFailed(explained));
  };

  /** What the device reports this slot's outcomes to (after the handlers: fields initialise in order). */
  private readonly completion: IoctlSink = { done: this.onDone, failed: this.onFail };
}

/** A refusal reaches the sink one microtask on, as a rejected promise would reach a `.then`. */
function refuse(sink: TransferSink, err: UsbFnError): void {
  queueMicrotask(() => sink.transferFailed(err));
}

/**
 * EP0's data stages keep the sequencing they had before the lean path (the caller resumes a few
 * microtasks after the device settles): a status handshake issued sooner can land after the
 * driver has completed a newer SETUP's notification but before ControlChannel has seen it, and
 * then answers the newer request (test/reliability/stale-status-handshake.test.ts). EP0 is not
 * a hot path; closing that window for real belongs to the control layer.
 */
export async function controlTransfer(ctx: TransferContext, code: number, pipeIdBytes: Uint8Array, buffer: Uint8Array, signal: AbortSignal | undefined, sentLength: boolean): Promise<number> {
  const bytes = await controlStage(ctx, code, pipeIdBytes, buffer, signal);
  return sentLength ? buffer.length : bytes;
}

async function controlStage(ctx: TransferContext, code: number, pipeIdBytes: Uint8Array, buffer: Uint8Array, signal: AbortSignal | undefined): Promise<number> {
  try {
    return await ctx.ioctl(code, pipeIdBytes, buffer, signal);
  } catch (err) {
    throw await explainTransferFailure(ctx, err, 0);
  }
}

/** A transfer failing with ERROR_GEN_FAILURE on a halted pipe is reported as STALLED. */
async function explainTransferFailure(ctx: TransferContext, err: unknown, pipeId: number): Promise<unknown> {
  if (!isUsbFnError(err) || err.win32Error !== ERROR_GEN_FAILURE || ctx.gate.closing) return err;
  const stalled = await ctx.getPipeState(pipeId).catch(() => false);
  if (!stalled) return err;
  return new UsbFnError(ErrorCodes.STALLED, `pipe ${pipeId} is stalled`, { cause: err, win32Error: err.win32Error, operation: err.operation });
}

/** `bytes` as the device reported it for `output`, refused (MALFORMED) if it is no count within the buffer. */
export function checkedBytes(code: number, bytes: number, output: Uint8Array | null): number {
  const capacity = output?.length ?? 0;
  if (!Number.isInteger(bytes) || bytes < 0 || bytes > capacity) {
    throw new UsbFnError(ErrorCodes.MALFORMED, `${IOCTL.ioctlName(code)} claimed ${bytes} bytes for a ${capacity}-byte buffer`, {
      operation: IOCTL.ioctlName(code),
    });
  }
  return bytes;
}
