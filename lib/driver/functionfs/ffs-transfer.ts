/**
 * FunctionFsDriver.openTransfer's handle: a BulkPipe's read slot or write op issues its transfers
 * straight into the AIO queue with itself as the sink (AioQueue.submitTo), so a transfer costs no
 * promise, no reaction job and no closure; the completion reaches the stream from the harvest.
 * Measured why: under emulation the promise path was a visible share of the gadget's CPU per
 * transfer (benchmarks/ffs-throughput.sh). Anything off the plain path (EP0, a transfer that
 * needs a ZLP after it, a refused one) goes through transferIn / transferOut, so its outcome
 * and error are theirs exactly.
 */
import { IOCB_CMD_PREAD, IOCB_CMD_PWRITE } from '../../../native-defs/linux-aio.js';
import type { TransferHandle, TransferInOptions, TransferSink, UsbFnDriver } from '../driver.js';
import { PromiseTransfer } from '../promise-transfer.js';
import type { AioQueue } from './aio.js';

/** What the handle needs from its driver (FunctionFsDriver). */
export interface DirectTransferHost extends Pick<UsbFnDriver, 'transferIn' | 'transferOut'> {
  readonly aio: AioQueue;
  /**
   * The endpoint file of a transfer that may go straight to AIO, or -1 when it must take
   * transferIn / transferOut (closed, aborted, EP0, a bad pipe or direction, a ZLP to follow).
   */
  directFd(direction: 'in' | 'out', pipeId: number, buffer: Uint8Array, options: TransferInOptions | undefined): number;
  /** What the transfers of `pipeId` are called in errors. */
  transferName(pipeId: number): string;
}

/** One reusable transfer slot reporting to `sink` (see the module comment and TransferHandle). */
export class FfsTransfer implements TransferHandle {
  private readonly opcode: number;
  /** The transfers off the plain path: transferIn / transferOut. */
  private readonly fallback: PromiseTransfer;

  constructor(private readonly host: DirectTransferHost, private readonly direction: 'in' | 'out', private readonly sink: TransferSink) {
    this.opcode = direction === 'in' ? IOCB_CMD_PWRITE : IOCB_CMD_PREAD;
    this.fallback = new PromiseTransfer(host, direction, sink);
  }

  submit(pipeId: number, buffer: Uint8Array, options?: TransferInOptions): void {
    const fd = this.host.directFd(this.direction, pipeId, buffer, options);
    if (fd >= 0) return this.host.aio.submitTo(fd, this.opcode, buffer, this.host.transferName(pipeId), options?.signal, this.sink);
    this.fallback.submit(pipeId, buffer, options);
  }
}
