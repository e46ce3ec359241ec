/**
 * Ep0: FunctionFS's ep0 file as the seam needs it. A koffi poll handle on the (non-blocking)
 * ep0 fd reads events as they come and queues them as BusEvents for nextBusEvent().
 *
 * Setup requests: reading a SETUP makes it pending in the kernel, and while it is pending ep0
 * polls readable and a read() would be its data stage; so the poll stops until the request is
 * answered. Answers (FunctionFS has no separate status stage):
 * - data IN: write(ep0, data) sends it (the kernel adds the ZLP when short of wLength) and ends
 *   the status stage; data OUT: read(ep0, wLength) takes it and ends the status stage;
 * - no data stage: read(ep0, 0) on a host-to-device request, write(ep0, 0) on device-to-host;
 * - stall: I/O in the wrong direction, which FunctionFS answers with EL2HLT.
 * A newer SETUP or a disconnect makes the pending one fail with EIDRM (USBFN_ERR_CANCELED).
 * The data stage is a short synchronous call: the host has already started the transfer.
 * Limitation: while a deferred request is unanswered, later ep0 events wait in the kernel.
 *
 * wIndex: the kernel rewrites it into the function's own numbering before the SETUP reaches
 * ep0 (f_fs.c, ffs_func_setup), keeping only its low byte: an interface-recipient request names
 * the function's interface 0 (what the class info reports); an endpoint-recipient one names the
 * endpoint file's number (ep1..epN, descriptor order), which this module turns back into the
 * address the function declares, as the emulator and GenericUSBFn.sys name it. Requests to
 * interfaces and endpoints not the function's are stalled by the kernel and never arrive;
 * device and "other" ones arrive as sent (FUNCTIONFS_ALL_CTRL_RECIP, set in the blob).
 */
import createDebug from 'debug';
import type { BusEvent, BusSpeed, OpOptions } from '../driver.js';
import type { SetupPacket } from '../../../native-defs/codec.js';
import { FFS_EVENT_SIZE } from '../../../native-defs/functionfs.js';
import { ErrorCodes, UsbFnError, canceledError } from '../../errors.js';
import { Errno, errnoError } from './errors.js';
import { mapFfsEvents } from './ep0-events.js';
import { pollFd, type LinuxFfi } from './linux-ffi.js';

const debug = createDebug('usbfn:ffs:ep0');

/** The kernel queues at most 4 events; one read takes them all. */
const EVENT_BUFFER = 4 * FFS_EVENT_SIZE;

interface Waiter {
  resolve: (e: BusEvent) => void;
  reject: (err: unknown) => void;
}

/** The ep0 event pump and setup answers; see the module comment. */
export class Ep0 {
  private readonly queue: BusEvent[] = [];
  private readonly waiters: Waiter[] = [];
  private readonly readBuffer = Buffer.alloc(EVENT_BUFFER);
  private poll: ReturnType<typeof pollFd> | null = null;
  private pending: SetupPacket | null = null;
  /** A data stage completed the latest request, status stage included: its handshake has nothing to do. */
  private statusDone = false;
  private closed = false;

  /**
   * @param endpointAddresses the declared address of each endpoint file, ep1 first (wIndex of
   *   endpoint-recipient requests is mapped back through it; empty: left as the kernel gives it)
   */
  constructor(
    private readonly ffi: LinuxFfi,
    private readonly fd: number,
    private readonly speed: () => BusSpeed | null,
    private readonly endpointAddresses: readonly number[] = [],
  ) {}

  /** Starts watching ep0. Idempotent. */
  start(): void {
    if (this.poll || this.closed) return;
    this.poll = pollFd(this.fd, () => this.onReadable());
  }

  /** The next bus event in kernel order; rejects CLOSED once closed and drained. */
  next(options: OpOptions = {}): Promise<BusEvent> {
    this.start();
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(queued);
    if (this.closed) return Promise.reject(new UsbFnError(ErrorCodes.CLOSED, 'the FunctionFS driver is closed', { operation: 'nextBusEvent' }));
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(canceledError('nextBusEvent', signal.reason));
    return new Promise<BusEvent>((resolve, reject) => {
      const waiter: Waiter = {
        resolve: (e) => (signal?.removeEventListener('abort', onAbort), resolve(e)),
        reject: (err) => (signal?.removeEventListener('abort', onAbort), reject(err)),
      };
      const onAbort = () => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(canceledError('nextBusEvent', signal!.reason));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  /** Data stage IN (pipe 0): sends `data`; that also completes the status stage. */
  writeData(data: Uint8Array): number {
    const setup = this.requirePending('EP0 data IN');
    if ((setup.bmRequestType & 0x80) === 0) throw this.fail(Errno.EL2HLT, 'write', 'EP0 data IN on a host-to-device request');
    const n = this.io('write', data, data.length, 'EP0 data IN');
    this.statusDone = true;
    return n;
  }

  /** Data stage OUT (pipe 0): receives up to buffer.length bytes; that also completes the status stage. */
  readData(buffer: Uint8Array): number {
    const setup = this.requirePending('EP0 data OUT');
    if ((setup.bmRequestType & 0x80) !== 0) throw this.fail(Errno.EL2HLT, 'read', 'EP0 data OUT on a device-to-host request');
    const n = this.io('read', buffer, buffer.length, 'EP0 data OUT');
    if (n > buffer.length) throw new UsbFnError(ErrorCodes.MALFORMED, `EP0 read returned ${n} bytes for ${buffer.length}`);
    this.statusDone = true;
    return n;
  }

  /**
   * A status handshake: completes a request without data stage by 0-byte I/O in its own
   * direction; after a data stage (which already completed the status stage) nothing is
   * pending and it does nothing. The seam calls it right after the data stage, in the same
   * job (only microtasks between), so no newer SETUP can have been read in between. With no
   * request to complete it is INVALID_STATE, as on GenericUSBFn.sys.
   */
  handshake(): void {
    if (!this.pending) {
      if (!this.statusDone) throw new UsbFnError(ErrorCodes.INVALID_STATE, 'EP0 status handshake: no setup request is pending', { operation: 'EP0 status' });
      this.statusDone = false;
      return;
    }
    const isIn = (this.pending.bmRequestType & 0x80) !== 0;
    this.io(isIn ? 'write' : 'read', null, 0, 'EP0 status');
  }

  /** Stalls the pending request: 0-byte I/O in the wrong direction, which FunctionFS answers with EL2HLT. */
  stall(): void {
    if (!this.pending) return;
    const isIn = (this.pending.bmRequestType & 0x80) !== 0;
    try {
      this.io(isIn ? 'read' : 'write', null, 0, 'EP0 stall');
    } catch (err) {
      if ((err as UsbFnError).errno !== Errno.EL2HLT) throw err;
    }
  }

  /** Stops the pump; waiters reject CLOSED. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.poll?.close();
    this.poll = null;
    for (const w of this.waiters.splice(0)) w.reject(new UsbFnError(ErrorCodes.CLOSED, 'the FunctionFS driver is closed', { operation: 'nextBusEvent' }));
  }

  private requirePending(what: string): SetupPacket {
    if (!this.pending) throw new UsbFnError(ErrorCodes.CANCELED, `${what}: no setup request is pending (superseded or already answered)`, { operation: what });
    return this.pending;
  }

  /**
   * One synchronous ep0 read/write. Any outcome (done, stalled, EIDRM) leaves the kernel with no
   * setup pending, so the pump resumes.
   */
  private io(kind: 'read' | 'write', buf: Uint8Array | null, length: number, what: string): number {
    const n = kind === 'read' ? this.ffi.read(this.fd, buf, length) : this.ffi.write(this.fd, buf, length);
    if (n < 0) throw this.fail(this.ffi.errno(), kind, what);
    this.finish();
    return n;
  }

  private fail(errno: number, syscall: string, what: string): UsbFnError {
    this.finish();
    return errnoError(errno, syscall, what);
  }

  /** The request is over (answered, stalled or superseded): read events again. */
  private finish(): void {
    this.pending = null;
    if (!this.closed) this.poll?.start({ readable: true }, () => this.onReadable());
  }

  private onReadable(): void {
    if (this.pending || this.closed) return this.poll?.stop();
    const n = this.ffi.read(this.fd, this.readBuffer, EVENT_BUFFER);
    if (n < 0) {
      const errno = this.ffi.errno();
      if (errno !== Errno.EAGAIN && errno !== Errno.EINTR) debug('ep0 read failed: errno %d', errno);
      return;
    }
    let events: BusEvent[];
    try {
      events = mapFfsEvents(this.readBuffer.subarray(0, Math.min(n, EVENT_BUFFER)), this.speed);
    } catch (err) {
      // Never throw out of the poll callback: a malformed read is logged and dropped.
      return debug('ep0 read of %d bytes dropped: %s', n, (err as Error).message);
    }
    for (const event of events) {
      if (event.type === 'setup') {
        const setup = this.declaredEndpointIndex(event.setup);
        this.pending = setup;
        this.statusDone = false;
        this.poll?.stop();
        this.deliver({ ...event, setup });
      } else this.deliver(event);
    }
  }

  /** An endpoint-recipient request's wIndex, the kernel's endpoint file number, as the declared address (see the module comment). */
  private declaredEndpointIndex(setup: SetupPacket): SetupPacket {
    if ((setup.bmRequestType & 0x1f) !== 2) return setup;
    const address = this.endpointAddresses[setup.wIndex - 1];
    debug('endpoint-recipient SETUP: the kernel says ep%d, declared 0x%s', setup.wIndex, address?.toString(16));
    if (address === undefined) return setup;
    return { ...setup, wIndex: address };
  }

  private deliver(event: BusEvent): void {
    debug('event %s', event.type);
    const w = this.waiters.shift();
    if (w) w.resolve(event);
    else this.queue.push(event);
  }
}
