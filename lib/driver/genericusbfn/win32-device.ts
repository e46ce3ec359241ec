/**
 * IoctlDevice over a GenericUSBFn.sys handle through koffi: CreateFileW with
 * FILE_FLAG_OVERLAPPED, one native OVERLAPPED per request, NtDeviceIoControlFile (what
 * DeviceIoControl calls), completions harvested
 * from the process's completion port (win32-completion.ts), CancelIoEx for an aborted signal and
 * for close().
 *
 * Memory (a review should find no buffer the kernel could write after it moved or was freed):
 * - The OVERLAPPED lives in native memory (win32-overlapped.ts) from DeviceIoControl until its
 *   completion is harvested; only then is its slot released, and the slabs are freed by close()
 *   once nothing is pending.
 * - The caller's buffers are passed zero-copy (koffi hands DeviceIoControl the typed array's own
 *   memory) and referenced from `pending` until the completion is harvested, so they cannot be
 *   collected. koffi takes the pointer through node_api_get_buffer_info, which makes V8 move a
 *   small on-heap typed array's contents off the heap for good first; afterwards its memory never
 *   moves (test/win32-standin pins this). The caller must not reuse them before the promise
 *   settles (IoctlDevice's contract); transferring or detaching their ArrayBuffer counts as reuse.
 * - Synchronous outcomes, as the I/O manager defines them, decided from the NTSTATUS
 *   NtDeviceIoControlFile returns and never from OVERLAPPED.Internal: on a handle bound to a
 *   completion port the status block is written only when the packet is dequeued, so right after
 *   the call it still reads STATUS_PENDING whatever happened. STATUS_PENDING, success,
 *   information or a warning: a completion packet follows (no
 *   FILE_SKIP_COMPLETION_PORT_ON_SUCCESS: one path for every outcome, settled once, by the
 *   harvester, and the slot stays taken until then). An error: nothing was queued or written, so
 *   it settles at once (RtlNtStatusToDosError) and the slot is reused.
 * - Query-remove (a driver update, a disable): an open handle vetoes it, so the handle is
 *   registered with CM_NOTIFY_FILTER_TYPE_DEVICEHANDLE; on DEVICEQUERYREMOVE (or REMOVEPENDING /
 *   REMOVECOMPLETE) pending requests are cancelled and the handle closed inside the callback, as
 *   Microsoft asks, and the device closes itself: what was pending, and every later request,
 *   fails with ERROR_DEVICE_NOT_CONNECTED (USBFN_ERR_DISCONNECTED above). It is not reopened
 *   after DEVICEQUERYREMOVEFAILED: the interface's arrival (watchDeviceInterfaces) says when to.
 * - Byte counts are passed on unclamped (the caller clamps, IoctlDevice's contract) and never used
 *   here to read anything.
 */
import createDebug from 'debug';
import { ErrorCodes, UsbFnError } from '../../errors.js';
import {
  ERROR_DEVICE_NOT_CONNECTED, ERROR_FILE_NOT_FOUND, ERROR_GEN_FAILURE, ERROR_INVALID_HANDLE, ERROR_INVALID_PARAMETER,
  ERROR_IO_PENDING, ERROR_OPERATION_ABORTED,
} from '../../../native-defs/win32-errors.js';
import {
  FILE_FLAG_OVERLAPPED, FILE_SHARE_READ, FILE_SHARE_WRITE, GENERIC_READ, GENERIC_WRITE, NT_SEVERITY_ERROR, NT_SEVERITY_WARNING,
  OPEN_EXISTING,
  STATUS_PENDING, STATUS_SUCCESS, ntStatusSeverity,
} from '../../../native-defs/win32-api.js';
import { ioctlName } from '../../../native-defs/ioctl.js';
import { IoctlError, type IoctlDevice, type IoctlSink } from './ioctl-device.js';
import { CompletionPort, type CompletionSink } from './win32-completion.js';
import { isInvalidHandle, kernel32, ntdll, type Kernel32, type Ntdll } from './win32-ffi.js';
import { OverlappedPool } from './win32-overlapped.js';
import { DeferredFailures, callSink } from './win32-sink-calls.js';
import { ListenedSignals, type SignalCarrier } from './win32-signals.js';
import { watchHandleRemoval, type CmNotification } from './win32-notification.js';

const debug = createDebug('usbfn:win32');
const ERROR_PATH_NOT_FOUND = 3;

const noop = (): void => {};

/**
 * One request from issue to harvest, one record per OVERLAPPED slot, reused: `live` while the
 * kernel may still use its buffers. `input` and `output` are held until harvest so the memory the
 * kernel uses cannot be collected, and dropped then.
 */
interface Pending extends SignalCarrier {
  /** The promise's settle functions (ioctl), or the caller's sink's (ioctlTo: `direct`). */
  resolve: (bytes: number) => void;
  reject: (err: IoctlError) => void;
  direct: boolean;
  input: Uint8Array | null;
  output: Uint8Array | null;
}

export class Win32IoctlDevice implements IoctlDevice, CompletionSink {
  /**
   * Opens a device interface by its symbolic link (CreateFileW: GENERIC_READ | GENERIC_WRITE,
   * FILE_SHARE_READ | FILE_SHARE_WRITE, OPEN_EXISTING, FILE_FLAG_OVERLAPPED) and associates it
   * with the completion port. Throws a UsbFnError: NOT_FOUND for a link that does not exist,
   * DRIVER (with win32Error) for any other failure, PLATFORM where there is no kernel32.
   */
  static open(path: string): Win32IoctlDevice {
    const k32 = kernel32();
    const access = (GENERIC_READ | GENERIC_WRITE) >>> 0;
    const handle = k32.CreateFileW(path, access, FILE_SHARE_READ | FILE_SHARE_WRITE, null, OPEN_EXISTING, FILE_FLAG_OVERLAPPED, null);
    if (isInvalidHandle(handle)) throw openError(path, k32.GetLastError());
    try {
      return new Win32IoctlDevice(k32, handle!, path);
    } catch (err) {
      k32.CloseHandle(handle!);
      throw new UsbFnError(ErrorCodes.DRIVER, `cannot use ${path}: ${(err as Error).message}`, {
        cause: err, operation: 'CreateIoCompletionPort', win32Error: (err as IoctlError).errno,
      });
    }
  }

  private readonly pool = new OverlappedPool();
  /** By OVERLAPPED slot; a record is created with its slot and reused (see Pending). */
  private readonly pending: Pending[] = [];
  /** The signals of pending requests, one listener each; an abort cancels what carries it. */
  private readonly signals = new ListenedSignals(this.pending, (slot) => this.cancel(slot));
  /** The new Promise's settle functions, handed over by `capture` (one closure per device, not per request). */
  private nextResolve: (bytes: number) => void = noop;
  private nextReject: (err: IoctlError) => void = noop;
  private readonly capture = (resolve: (bytes: number) => void, reject: (err: IoctlError) => void): void => {
    this.nextResolve = resolve;
    this.nextReject = reject;
  };
  /** ioctlTo's failures decided inside the call: never reported from within it, never overtaken. */
  private readonly deferred = new DeferredFailures();
  private readonly port: CompletionPort;
  private readonly key: number;
  private readonly nt: Ntdll = ntdll();
  private readonly removal: CmNotification | null;
  private handleOpen = true;
  private removed = false;
  private closing = false;
  private closed: Promise<void> | null = null;
  private onIdle: (() => void) | null = null;

  private constructor(private readonly k32: Kernel32, private readonly handle: bigint, readonly path: string) {
    this.port = CompletionPort.acquire();
    this.key = this.port.associate(handle, this);
    this.removal = watchHandleRemoval(handle, path, () => this.onRemoval());
    debug('opened %s', path);
  }

  /** Requests issued and not yet harvested. */
  get pendingCount(): number {
    return this.pool.size;
  }

  /** See IoctlDevice.ioctl: overlapped DeviceIoControl, settled when its completion is harvested. */
  ioctl(code: number, input: Uint8Array | null, output: Uint8Array | null, signal?: AbortSignal): Promise<number> {
    const refused = this.refusal(signal);
    if (refused) return Promise.reject(refused);
    const promise = new Promise<number>(this.capture);
    this.issue(code, input, output, signal ?? null, false);
    return promise;
  }

  /** See IoctlDevice.ioctlTo: as ioctl, the harvester reporting straight to `sink`. */
  ioctlTo(code: number, input: Uint8Array | null, output: Uint8Array | null, signal: AbortSignal | undefined, sink: IoctlSink): void {
    const refused = this.refusal(signal);
    if (refused) return this.deferred.push(sink.failed, refused);
    this.nextResolve = sink.done;
    this.nextReject = sink.failed;
    this.issue(code, input, output, signal ?? null, true);
  }

  /**
   * Why a request is refused before it is issued, or null. The signal is checked here: failing to
   * listen to a bad one after DeviceIoControl would settle while the kernel still owns the buffers.
   */
  private refusal(signal: AbortSignal | undefined): IoctlError | null {
    if (this.closing) return new IoctlError(this.removed ? ERROR_DEVICE_NOT_CONNECTED : ERROR_INVALID_HANDLE);
    if (signal?.aborted) return new IoctlError(ERROR_OPERATION_ABORTED);
    if (signal !== undefined && !(signal instanceof AbortSignal)) return new IoctlError(ERROR_INVALID_PARAMETER, 0, 'signal must be an AbortSignal');
    return null;
  }

  /** See IoctlDevice.close: CancelIoEx on everything, wait for each completion, close the handle. */
  close(): Promise<void> {
    this.closed ??= this.shutdown();
    return this.closed;
  }

  /** @internal Called by the completion port with each harvested OVERLAPPED of this device. */
  onCompletion(overlapped: number): void {
    if (this.deferred.length > 0) this.deferred.deliver();
    const slot = this.pool.slotOf(overlapped);
    if (slot < 0 || !this.pending[slot]?.live) {
      debug('%s: completion for an OVERLAPPED not in flight (0x%s) ignored', this.path, overlapped.toString(16));
      return;
    }
    // Written by the dequeue, so readable now. Success and information succeed; a warning or an
    // error fails with its Win32 error, as GetOverlappedResult reports them (which would need the
    // handle, closed already after a query-remove).
    const status = this.pool.status(slot);
    const bytes = this.pool.bytes(slot);
    if (status === STATUS_SUCCESS || ntStatusSeverity(status) < NT_SEVERITY_WARNING) return this.settle(slot, 0, bytes);
    this.settle(slot, this.nt.RtlNtStatusToDosError(status), bytes);
  }

  /**
   * cfgmgr32 is removing the device (called on the JS thread while its thread waits): cancel,
   * close the handle now so it does not veto, and close the device.
   */
  private onRemoval(): void {
    if (!this.handleOpen) return;
    debug('%s: the device is being removed: closing its handle', this.path);
    this.removed = true;
    this.closing = true;
    if (this.pool.size > 0 && !this.k32.CancelIoEx(this.handle, null)) debug('%s: CancelIoEx(all): %d', this.path, this.k32.GetLastError());
    this.closeHandle();
    void this.close();
  }

  private closeHandle(): void {
    if (!this.handleOpen) return;
    this.handleOpen = false;
    this.k32.CloseHandle(this.handle);
  }

  /** Issues the request whose settle functions `capture` (or ioctlTo's sink) just gave; settles it at once if nothing was queued. */
  private issue(code: number, input: Uint8Array | null, output: Uint8Array | null, signal: AbortSignal | null, direct: boolean): void {
    const slot = this.pool.acquire();
    const request = (this.pending[slot] ??= { live: false, resolve: noop, reject: noop, direct: false, input: null, output: null, signal: null });
    request.live = true; // before the call: the driver may complete inside it
    request.resolve = this.nextResolve;
    request.reject = this.nextReject;
    request.direct = direct;
    request.input = input;
    request.output = output;
    const overlapped = this.pool.address(slot);
    let status: number;
    try {
      // The OVERLAPPED is both the status block and the APC context (what the packet hands
      // back), with no event and no APC routine: exactly what DeviceIoControl passes.
      status = this.nt.NtDeviceIoControlFile(this.handle, null, null, overlapped, overlapped, code, input, input?.byteLength ?? 0, output, output?.byteLength ?? 0);
    } catch (err) {
      // koffi refused an argument before calling: the kernel never saw this OVERLAPPED.
      this.settle(slot, ERROR_INVALID_PARAMETER, 0, `DeviceIoControl arguments refused: ${(err as Error).message}`, true);
      return;
    }
    // An error completed synchronously: no packet, no status block. Anything else: a packet follows.
    if (ntStatusSeverity(status) === NT_SEVERITY_ERROR) return this.settle(slot, this.nt.RtlNtStatusToDosError(status), 0, undefined, true);
    if (status !== STATUS_PENDING) this.port.expectPacket(); // completed inside the call: its packet is queued
    if (debug.enabled) debug('%s: %s pending in slot %d', this.path, ioctlName(code) ?? code.toString(16), slot);
    if (signal === null) return;
    // Listened to only now: an abort during the call (by something the driver did) is caught by
    // the check below, never by a listener cancelling a request the kernel has not returned yet.
    request.signal = signal;
    if (signal.aborted) return this.cancel(slot);
    if (!this.signals.listened.has(signal)) this.signals.add(signal);
  }

  private cancel(slot: number): void {
    if (!this.pending[slot]?.live) return;
    // FALSE with ERROR_NOT_FOUND: it completed already and its packet is on its way. Either way
    // it settles once, when harvested.
    if (!this.k32.CancelIoEx(this.handle, this.pool.address(slot))) {
      debug('%s: CancelIoEx(slot %d): Win32 error %d', this.path, slot, this.k32.GetLastError());
    }
  }

  /** Settles a slot's request; `inCall`: from within ioctl/ioctlTo, where a sink must not be called. */
  private settle(slot: number, errno: number, bytes: number, message?: string, inCall = false): void {
    const request = this.pending[slot]!;
    const { resolve, reject, direct } = request;
    request.live = false;
    request.resolve = request.reject = noop;
    request.input = request.output = null; // the kernel is done with them: let them go
    request.signal = null;
    this.pool.release(slot);
    if (errno === ERROR_IO_PENDING) errno = ERROR_GEN_FAILURE;
    if (errno === ERROR_OPERATION_ABORTED && this.removed) errno = ERROR_DEVICE_NOT_CONNECTED; // cancelled by the removal
    if (!direct) {
      if (errno === 0) resolve(bytes);
      else reject(new IoctlError(errno, bytes, message));
    } else if (errno === 0) {
      callSink(resolve, bytes);
    } else if (inCall) {
      this.deferred.push(reject, new IoctlError(errno, bytes, message));
    } else {
      callSink(reject, new IoctlError(errno, bytes, message));
    }
    if (this.pool.size === 0 && this.onIdle) this.onIdle();
  }

  private async shutdown(): Promise<void> {
    this.closing = true;
    const unregistered = this.removal?.close();
    if (this.pool.size > 0) {
      const idle = new Promise<void>((resolve) => (this.onIdle = resolve));
      if (this.handleOpen && !this.k32.CancelIoEx(this.handle, null)) debug('%s: CancelIoEx(all): %d', this.path, this.k32.GetLastError());
      await idle;
    }
    this.closeHandle();
    this.pool.free();
    this.signals.sweep(); // nothing is pending: every listener goes
    await unregistered;
    debug('closed %s', this.path);
    await this.port.release(this.key);
  }
}

function openError(path: string, errno: number): UsbFnError {
  const notFound = errno === ERROR_FILE_NOT_FOUND || errno === ERROR_PATH_NOT_FOUND;
  return new UsbFnError(notFound ? ErrorCodes.NOT_FOUND : ErrorCodes.DRIVER, `cannot open ${path}: Win32 error ${errno}`, {
    win32Error: errno,
    operation: 'CreateFileW',
  });
}
