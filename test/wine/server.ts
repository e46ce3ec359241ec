/**
 * The user-mode half of usbfn-broker.sys: opens a channel's server handle with the library's own
 * Win32IoctlDevice (so this side, too, is overlapped I/O through Wine's I/O manager), keeps GETs
 * pending, and answers each application IRP with whatever serves that file object (the
 * emulator: all GenericUSBFn semantics stay there). Runs in the same Wine node process as the
 * library under test: a second process would add a process boundary the library never sees and
 * a second Wine startup per test file; the broker already puts the driver side in another
 * process (winedevice.exe).
 */
import koffi from 'koffi';
import createDebug from 'debug';
import { Win32IoctlDevice } from '../../lib/driver/genericusbfn/win32-device.js';
import { IoctlError } from '../../lib/driver/genericusbfn/ioctl-device.js';
import { METHOD_IN_DIRECT } from '../../native-defs/ioctl.js';
import { ERROR_DEVICE_NOT_CONNECTED, ERROR_GEN_FAILURE, ERROR_NOT_FOUND } from '../../native-defs/win32-errors.js';
import type { UsbFnError } from '../../lib/errors.js';
import {
  CHANNELS, EV_CANCEL, EV_CLOSE, EV_OPEN, EV_REQUEST, EV_RESIZE, HEADER_BYTES, IOCTL_BROKER_COMPLETE, IOCTL_BROKER_FAIL_NEXT, IOCTL_BROKER_GET,
  IOCTL_BROKER_STATS, NTSTATUS_FOR_WIN32, STATS_NAMES, decodeEvent, ntWin32Status, serverPath, type BrokerEvent, type BrokerStats,
} from './protocol.js';

const debug = createDebug('usbfn:wine-broker');
const GETS_OUTSTANDING = 4;
const GET_BYTES = HEADER_BYTES + 64 * 1024;
const ERROR_SHARING_VIOLATION = 32;

/** What answers the IRPs of one application file object: IoctlDevice's ioctl (the emulator). */
export interface BrokerHandler {
  ioctl(code: number, input: Uint8Array | null, output: Uint8Array | null, signal: AbortSignal): Promise<number> | number;
  /** The file object was closed (the emulator's close(), as the stand-in does). */
  close?(): Promise<void> | void;
}

let statusTable: Map<number, number> | null = null;

/**
 * Win32 error → the NTSTATUS that ntdll!RtlNtStatusToDosError turns back into it, checked once
 * against the running ntdll (Wine's), so a mapping Wine does not share fails loudly here.
 */
function ntStatusFor(errno: number): number {
  if (!statusTable) {
    const toDos = koffi.load('ntdll.dll').func('uint32_t __stdcall RtlNtStatusToDosError(uint32_t)') as (s: number) => number;
    statusTable = new Map();
    for (const [win32, status] of Object.entries(NTSTATUS_FOR_WIN32)) {
      const back = toDos(status);
      if (back !== Number(win32)) throw new Error(`ntdll maps 0x${status.toString(16)} to ${back}, not ${win32}`);
      statusTable.set(Number(win32), status);
    }
  }
  const status = statusTable.get(errno) ?? ntWin32Status(errno);
  return status;
}

export class BrokerServer {
  /**
   * Opens a server handle on the first free channel from `preferred` on (the broker allows one
   * server per channel: a child process started by a test takes the next one) and starts serving.
   */
  static open(preferred: number): BrokerServer {
    for (let i = 0; ; i++) {
      const channel = (preferred + i) % CHANNELS;
      try {
        return new BrokerServer(Win32IoctlDevice.open(serverPath(channel)), channel);
      } catch (err) {
        if ((err as UsbFnError).win32Error !== ERROR_SHARING_VIOLATION || i === CHANNELS - 1) throw err;
      }
    }
  }

  private readonly files = new Map<number, BrokerHandler | undefined>();
  private readonly awaitingOpen: BrokerHandler[] = [];
  private readonly inflight = new Map<number, AbortController>();
  private readonly early = new Map<number, BrokerEvent>();
  private readonly closeWaiters = new Map<BrokerHandler, () => void>();
  private nextSeq = 1;
  /** GET buffer size: grows to the largest request seen, so big transfers stop bouncing GETs. */
  private getBytes = GET_BYTES;
  private closing = false;
  /** Events handled, by kind (tests check that a cancel reached the server). */
  readonly seen = { requests: 0, cancels: 0, opens: 0, closes: 0 };

  private constructor(private readonly device: Win32IoctlDevice, readonly channel: number) {
    for (let i = 0; i < GETS_OUTSTANDING; i++) this.get();
  }

  /** The next application handle opened on this channel is served by `handler`. */
  expectOpen(handler: BrokerHandler): void {
    this.awaitingOpen.push(handler);
  }

  /** Undoes expectOpen when the open failed. */
  forgetOpen(handler: BrokerHandler): void {
    const i = this.awaitingOpen.indexOf(handler);
    if (i >= 0) this.awaitingOpen.splice(i, 1);
  }

  /**
   * Resolves once the broker has seen `handler`'s file object closed (IRP_MJ_CLOSE reaches a
   * driver after CloseHandle returns, in another process under Wine) and its close() ran, or
   * once this server is closed.
   */
  whenClosed(handler: BrokerHandler): Promise<void> {
    if (this.closing || ![...this.files.values(), ...this.awaitingOpen].includes(handler)) return Promise.resolve();
    return new Promise((resolve) => this.closeWaiters.set(handler, resolve));
  }

  /** The next application IOCTL with `code` completes inside dispatch with `errno`'s NTSTATUS. */
  failNext(code: number, errno: number): Promise<void> {
    return this.completeNextInDispatch(code, ntStatusFor(errno));
  }

  /** The next application IOCTL with `code` completes inside dispatch with NTSTATUS `status` and no data. */
  async completeNextInDispatch(code: number, status: number): Promise<void> {
    const body = new Uint8Array(8);
    const v = new DataView(body.buffer);
    v.setUint32(0, code, true);
    v.setUint32(4, status >>> 0, true);
    await this.device.ioctl(IOCTL_BROKER_FAIL_NEXT, body, null);
  }

  async stats(): Promise<BrokerStats> {
    const out = new Uint8Array(STATS_NAMES.length * 4);
    await this.device.ioctl(IOCTL_BROKER_STATS, null, out);
    const v = new DataView(out.buffer);
    return Object.fromEntries(STATS_NAMES.map((n, i) => [n, v.getUint32(i * 4, true)])) as unknown as BrokerStats;
  }

  /** Aborts what the handlers still hold and closes the server handle (the broker then fails what is pending). */
  async close(): Promise<void> {
    this.closing = true;
    for (const ac of this.inflight.values()) ac.abort();
    for (const resolve of this.closeWaiters.values()) resolve();
    this.closeWaiters.clear();
    await this.device.close();
  }

  private get(): void {
    if (this.closing) return;
    const buffer = new Uint8Array(this.getBytes);
    this.device.ioctl(IOCTL_BROKER_GET, null, buffer).then((n) => {
      const event = decodeEvent(buffer, n);
      if (event.kind === EV_RESIZE) {
        this.getBytes = Math.max(this.getBytes, event.dataLen);
        return this.get(); // the event waits at the head of the queue
      }
      this.get();
      this.inOrder(event);
    }, (err: IoctlError) => {
      if (!this.closing) debug('channel %d: GET failed: %s', this.channel, err.message);
    });
  }

  /** GETs may be harvested out of the order the broker answered them: handle events by seq. */
  private inOrder(event: BrokerEvent): void {
    this.early.set(event.seq, event);
    for (let next = this.early.get(this.nextSeq); next; next = this.early.get(this.nextSeq)) {
      this.early.delete(this.nextSeq++);
      this.handle(next);
    }
  }

  private handle(event: BrokerEvent): void {
    switch (event.kind) {
      case EV_OPEN:
        this.seen.opens++;
        this.files.set(event.file, this.awaitingOpen.shift());
        break;
      case EV_CLOSE: {
        this.seen.closes++;
        const handler = this.files.get(event.file);
        this.files.delete(event.file);
        void Promise.resolve(handler?.close?.()).catch((err) => debug('close handler: %s', err)).then(() => {
          const resolve = handler && this.closeWaiters.get(handler);
          if (resolve) {
            this.closeWaiters.delete(handler!);
            resolve();
          }
        });
        break;
      }
      case EV_CANCEL:
        this.seen.cancels++;
        this.inflight.get(event.id)?.abort();
        break;
      case EV_REQUEST:
        this.seen.requests++;
        this.request(event);
        break;
      default:
        debug('channel %d: unknown event kind %d', this.channel, event.kind);
    }
  }

  private request(event: BrokerEvent): void {
    const handler = this.files.get(event.file);
    if (!handler) return this.complete(event.id, ntStatusFor(ERROR_DEVICE_NOT_CONNECTED), 0, null);
    const inDirect = (event.code & 3) === METHOD_IN_DIRECT;
    const input = event.inLen ? event.data.slice(0, event.inLen) : null;
    const output = event.outLen ? new Uint8Array(event.outLen) : null;
    if (inDirect && output) output.set(event.data.subarray(event.inLen, event.inLen + event.outLen));
    const ac = new AbortController();
    this.inflight.set(event.id, ac);
    let result: Promise<number>;
    try {
      result = Promise.resolve(handler.ioctl(event.code, input, output, ac.signal));
    } catch (err) {
      result = Promise.reject(err);
    }
    result.then((bytes) => {
      const data = !inDirect && output ? output.subarray(0, Math.min(bytes, output.length)) : null;
      this.complete(event.id, 0, bytes, data);
    }, (err: unknown) => {
      const errno = err instanceof IoctlError ? err.errno : ERROR_GEN_FAILURE;
      // What a driver wrote into a METHOD_OUT_DIRECT buffer before failing is in the caller's
      // memory on Windows: hand it to the broker all the same (Wine 8.0 then drops it).
      this.complete(event.id, ntStatusFor(errno), err instanceof IoctlError ? err.bytesReturned : 0, inDirect ? null : output);
    }).finally(() => this.inflight.delete(event.id));
  }

  private complete(id: number, status: number, bytes: number, data: Uint8Array | null): void {
    if (this.closing) return; // closing the server handle fails every pending IRP
    const body = new Uint8Array(12 + (data?.length ?? 0));
    const v = new DataView(body.buffer);
    v.setUint32(0, id, true);
    v.setUint32(4, status, true);
    v.setUint32(8, bytes, true);
    if (data) body.set(data, 12);
    this.device.ioctl(IOCTL_BROKER_COMPLETE, body, null).catch((err: IoctlError) => {
      // NOT_FOUND: the IRP left the broker already (its file object was closed)
      if (err.errno !== ERROR_NOT_FOUND) debug('channel %d: COMPLETE %d failed: %s', this.channel, id, err.message);
    });
  }
}
