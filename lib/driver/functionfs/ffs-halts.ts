/**
 * The halts of a FunctionFsDriver's data pipes, as the kernel has them (f_fs.c, the UDC; proven
 * in the VM): the function halts an endpoint by I/O in the wrong direction (usb_ep_set_halt;
 * EBADMSG); the host's CLEAR_FEATURE(ENDPOINT_HALT) and SET_FEATURE are handled by the UDC and
 * never reach the function; I/O queued on a halted endpoint is neither failed nor consumed: it
 * waits and moves once the halt is cleared (by the host, or FUNCTIONFS_CLEAR_HALT). So
 * GET_PIPE_STATE can only report the halts this driver set, and forgets one when the host has
 * visibly cleared it: a transfer on that endpoint completed (AioQueue.onMoved, set only while a
 * halt stands), or the endpoints were enabled again (ENABLE). A halt the host sets is invisible
 * here: transfers just wait.
 */
import { FFS_IOCTL } from '../../../native-defs/functionfs.js';
import type { AioQueue } from './aio.js';
import { Errno, errnoError } from './errors.js';
import type { LinuxFfi } from './linux-ffi.js';

/** One driver's data-pipe halts; see the module comment. */
export class FfsHalts {
  /**
   * Pipes this driver halted with no transfer completed on them since: this set *is* GET_PIPE_STATE
   * on FunctionFS (the kernel has no query). PipeEndpoint.ownHalt keeps a flag by the same rule
   * for another reason, so both stay: it tells a stream that a STALLED failure is its own halt, on
   * a backend that fails transfers on a halted pipe and answers GET_PIPE_STATE itself
   * (GenericUSBFn.sys); FunctionFS never fails one STALLED, and getPipeState() must answer any caller.
   */
  private readonly halted = new Set<number>();

  /** `epFds`: the data endpoints' files, pipe id 1 first; `aio`: their queue (its onMoved is set here). */
  constructor(private readonly ffi: LinuxFfi, private readonly epFds: readonly number[], private readonly aio: AioQueue) {}

  /** Whether this driver halted `pipeId` and no transfer has moved on it since. */
  has(pipeId: number): boolean {
    return this.halted.has(pipeId);
  }

  /**
   * Halts `pipeId` by a 1-byte I/O in the wrong direction (`isIn`: the endpoint's), which
   * FunctionFS answers EBADMSG after setting the halt. Throws the errno error for anything else.
   */
  halt(pipeId: number, isIn: boolean): void {
    const fd = this.epFds[pipeId - 1]!;
    const one = Buffer.alloc(1);
    const rc = isIn ? this.ffi.read(fd, one, 1) : this.ffi.write(fd, one, 1);
    const errno = rc < 0 ? this.ffi.errno() : 0;
    if (errno !== Errno.EBADMSG) throw errnoError(errno || Errno.EINVAL, isIn ? 'read' : 'write', `halt ep${pipeId}`);
    this.halted.add(pipeId);
    this.aio.onMoved = this.moved;
  }

  /** FUNCTIONFS_CLEAR_HALT on `pipeId`, then forgets its halt. Throws the errno error. */
  clear(pipeId: number): void {
    if (this.ffi.ioctl(this.epFds[pipeId - 1]!, FFS_IOCTL.CLEAR_HALT, 0n) < 0) throw errnoError(this.ffi.errno(), 'ioctl', `clear halt ep${pipeId}`);
    this.forget(pipeId);
  }

  /** Forgets the halt of `pipeId`, or of every pipe; the last one forgotten restores the lean harvest. */
  forget(pipeId?: number): void {
    if (pipeId === undefined) this.halted.clear();
    else this.halted.delete(pipeId);
    if (this.halted.size === 0) this.aio.onMoved = null;
  }

  /** AioQueue.onMoved while a halt stands: data moved on `fd`, so the host cleared any halt there. */
  private readonly moved = (fd: number): void => this.forget(this.epFds.indexOf(fd) + 1);
}
