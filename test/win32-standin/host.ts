/**
 * The JS side of the stand-in: loads the library built by build.ts, makes it the backend's
 * kernel32/cfgmgr32 (configureWin32Libraries), and routes each DeviceIoControl the library
 * forwards to the handler of that device interface (the emulator, or a test's fake).
 *
 * The forward callback runs synchronously inside DeviceIoControl, on the JS thread, as a
 * driver's dispatch routine runs in the caller's context. It wraps the caller's real buffers with
 * koffi.view (no copy: the emulator reads and writes the memory the kernel would), calls
 * handler.ioctl, and reports the outcome with standin_complete; the library's completion thread
 * then writes the OVERLAPPED and posts the packet. CancelIoEx reaches the handler as an abort of
 * the signal it was given. A handler may also answer synchronously (a number, or a thrown
 * IoctlError) to exercise completion inside dispatch.
 */
import koffi, { type KoffiFunc } from 'koffi';
import { IoctlError } from '../../lib/driver/genericusbfn/ioctl-device.js';
import { configureWin32Libraries } from '../../lib/driver/genericusbfn/win32-library.js';
import { ensureKoffiConfigured } from '../../lib/driver/genericusbfn/win32-ffi.js';
import { guidBytes } from '../../lib/driver/genericusbfn/win32-discovery.js';
import { ERROR_DEVICE_NOT_CONNECTED, ERROR_GEN_FAILURE } from '../../native-defs/win32-errors.js';
import { buildStandin } from './build.js';
import { waitUntil } from '../wait.js';

/** What serves one device interface: IoctlDevice's ioctl, optionally answering synchronously. */
export interface StandinHandler {
  ioctl(code: number, input: Uint8Array | null, output: Uint8Array | null, signal: AbortSignal): Promise<number> | number;
  /** The interface's last handle was closed (the emulator's close(): its driver file is gone). */
  close?(): Promise<void> | void;
}

/**
 * The cancellation a forwarded request carries: what an IRP's cancel routine is to a driver.
 * It implements the part of AbortSignal an IoctlDevice uses (`aborted`, `reason`, 'abort'
 * listeners, `once`); a real AbortController costs ~6 µs to create here, which would be
 * charged to the koffi path in benchmarks although Windows has nothing like it.
 */
class CancelSignal {
  aborted = false;
  reason: unknown = undefined;
  private listeners: { fn: (e: Event) => void; once: boolean }[] = [];

  addEventListener(type: string, fn: (e: Event) => void, options?: { once?: boolean }): void {
    if (type === 'abort') this.listeners.push({ fn, once: options?.once === true });
  }

  removeEventListener(type: string, fn: (e: Event) => void): void {
    if (type === 'abort') this.listeners = this.listeners.filter((l) => l.fn !== fn);
  }

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = new DOMException('This operation was aborted', 'AbortError');
    const listeners = this.listeners;
    this.listeners = listeners.filter((l) => !l.once);
    for (const l of listeners) l.fn(new Event('abort'));
  }
}

/** The library's counters (standin.h ST_* order). */
export interface StandinStats {
  handlesOpen: number; requestsOutstanding: number; requestsStarted: number; completions: number;
  badCompletions: number; packetsPosted: number; packetsDequeued: number; packetsDropped: number;
  cancelsForwarded: number; overlappedReuse: number; portsAlive: number; devicesAlive: number;
  registrations: number; notificationsDelivered: number; callbacksRunning: number; threadsAlive: number;
}
const STAT_NAMES: (keyof StandinStats)[] = ['handlesOpen', 'requestsOutstanding', 'requestsStarted', 'completions',
  'badCompletions', 'packetsPosted', 'packetsDequeued', 'packetsDropped', 'cancelsForwarded', 'overlappedReuse',
  'portsAlive', 'devicesAlive', 'registrations', 'notificationsDelivered', 'callbacksRunning', 'threadsAlive'];

interface Exports {
  standin_set_callbacks: KoffiFunc<(forward: bigint, cancel: bigint, closed: bigint) => void>;
  standin_complete: KoffiFunc<(token: number, status: number, bytes: number) => number>;
  standin_set_completion_delay_us: KoffiFunc<(us: number) => void>;
  standin_set_completion_thread: KoffiFunc<(on: number) => void>;
  standin_set_completion_linger_us: KoffiFunc<(us: number) => void>;
  standin_set_notifier_busy_us: KoffiFunc<(us: number) => void>;
  standin_query_remove: KoffiFunc<(id: number) => number>;
  standin_query_remove_result: KoffiFunc<(id: number) => number>;
  standin_stats: KoffiFunc<(out: Uint32Array, n: number) => void>;
  standin_set_instant: KoffiFunc<(id: number, on: number, fill: number) => number>;
  standin_instant_counts: KoffiFunc<(id: number, out: Uint32Array) => void>;
  standin_add_interface: KoffiFunc<(guid: Uint8Array, link: string) => number>;
  standin_remove_interface: KoffiFunc<(id: number) => number>;
  standin_arm_list_race: KoffiFunc<(guid: Uint8Array, link: string) => void>;
}

const Forward = koffi.proto(null, 'void', ['uint32_t', 'uint32_t', 'uint32_t', 'void *', 'uint32_t', 'void *', 'uint32_t']);
const Cancel = koffi.proto(null, 'void', ['uint32_t', 'uint32_t']);
const Closed = koffi.proto(null, 'void', ['uint32_t']);

export class Standin {
  private static instance: Standin | null = null;

  /** The process's stand-in (the library is loaded once), or `{ skip }` when it cannot be built. */
  static load(): Standin | { skip: string } {
    if (Standin.instance) return Standin.instance;
    const built = buildStandin();
    if (built.skip !== undefined) return { skip: built.skip };
    configureWin32Libraries({ kernel32: built.path, cfgmgr32: built.path });
    return (Standin.instance = new Standin(built.path));
  }

  private readonly lib: Exports;
  private readonly handlers = new Map<number, StandinHandler>();
  private readonly inflight = new Map<number, CancelSignal>();
  /** The token of the last request forwarded (tests of the library's own bookkeeping). */
  lastToken = 0;

  private constructor(readonly libraryPath: string) {
    ensureKoffiConfigured();
    const lib = koffi.load(libraryPath);
    this.lib = {
      standin_set_callbacks: lib.func('void standin_set_callbacks(void *forward, void *cancel, void *closed)'),
      standin_complete: lib.func('int32_t standin_complete(uint32_t token, uint32_t status, uint32_t bytes)'),
      standin_set_completion_delay_us: lib.func('void standin_set_completion_delay_us(uint32_t us)'),
      standin_set_completion_thread: lib.func('void standin_set_completion_thread(int32_t on)'),
      standin_set_completion_linger_us: lib.func('void standin_set_completion_linger_us(uint32_t us)'),
      standin_set_notifier_busy_us: lib.func('void standin_set_notifier_busy_us(uint32_t us)'),
      standin_query_remove: lib.func('int32_t standin_query_remove(uint32_t id)'),
      standin_query_remove_result: lib.func('int32_t standin_query_remove_result(uint32_t id)'),
      standin_stats: lib.func('void standin_stats(_Out_ uint32_t *out, uint32_t n)'),
      standin_set_instant: lib.func('int32_t standin_set_instant(uint32_t id, int32_t on, int32_t fill)'),
      standin_instant_counts: lib.func('void standin_instant_counts(uint32_t id, _Out_ uint32_t *out)'),
      standin_add_interface: lib.func('uint32_t standin_add_interface(void *guid, const char16_t *link)'),
      standin_remove_interface: lib.func('int32_t standin_remove_interface(uint32_t id)'),
      standin_arm_list_race: lib.func('void standin_arm_list_race(void *guid, const char16_t *link)'),
    } as Exports;
    // Registered for the life of the process: the library may forward at any time.
    const forward = koffi.register(this.forward.bind(this), koffi.pointer(Forward));
    const cancel = koffi.register((_iface: number, token: number) => this.inflight.get(token)?.abort(), koffi.pointer(Cancel));
    const closed = koffi.register((iface: number) => this.closed(iface), koffi.pointer(Closed));
    this.lib.standin_set_callbacks(forward, cancel, closed);
  }

  /** Makes a device interface present; requests on handles opened with `symbolicLink` go to `handler`. */
  addInterface(interfaceGuid: string, symbolicLink: string, handler: StandinHandler): number {
    const id = this.lib.standin_add_interface(guidBytes(interfaceGuid), symbolicLink);
    if (id === 0) throw new Error(`standin_add_interface(${symbolicLink}) failed`);
    this.handlers.set(id, handler);
    return id;
  }

  /**
   * Switches interface `id` to the instant native transport (transport.c) or back: its bulk
   * transfers (any pipe but 0) complete at once inside the library, in C, with their whole
   * buffer, and never reach the handler; a TRANSFER_OUT buffer is filled with `fill` (a byte, or
   * null to leave it untouched). Everything else still goes to the handler.
   */
  setInstant(id: number, on: boolean, fill: number | null = null): void {
    if (this.lib.standin_set_instant(id, on ? 1 : 0, fill ?? -1) !== 0) throw new Error(`standin_set_instant(${id}, ${fill}) refused`);
  }

  /** What the instant transport moved on interface `id` (bytes wrap at 2^32). */
  instantCounts(id: number): { sent: number; sentBytes: number; received: number; receivedBytes: number } {
    const out = new Uint32Array(4);
    this.lib.standin_instant_counts(id, out);
    return { sent: out[0]!, sentBytes: out[1]!, received: out[2]!, receivedBytes: out[3]! };
  }

  /** Removes it from discovery (removal notifications follow). Open handles keep their handler. */
  removeInterface(id: number): void {
    if (this.lib.standin_remove_interface(id) !== 0) throw new Error(`no present interface ${id}`);
  }

  /**
   * The PnP manager asks to remove interface `id` (driver update, disable). Resolves 'removed'
   * or 'vetoed' (an open handle, or a handle registration that refused, vetoes it).
   */
  async queryRemove(id: number): Promise<'removed' | 'vetoed'> {
    if (this.lib.standin_query_remove(id) !== 0) throw new Error(`no present interface ${id}`);
    let result = -1;
    await waitUntil(() => (result = this.lib.standin_query_remove_result(id)) !== -1, 'the query-remove');
    return result === 0 ? 'removed' : 'vetoed';
  }

  /** See standin_arm_list_race: the next size query is followed by this interface's arrival. */
  armListRace(interfaceGuid: string, symbolicLink: string, handler: StandinHandler): void {
    this.lib.standin_arm_list_race(guidBytes(interfaceGuid), symbolicLink);
    this.pendingRaceHandler = handler;
  }
  private pendingRaceHandler: StandinHandler | null = null;

  /** Delays each asynchronous completion on the library's completion thread. */
  setCompletionDelay(microseconds: number): void {
    this.lib.standin_set_completion_delay_us(microseconds);
  }

  /** Keeps the thread that posted each completion in the library this long after posting it. */
  setCompletionLinger(microseconds: number): void {
    this.lib.standin_set_completion_linger_us(microseconds);
  }

  /** Keeps the notifier thread busy (running stand-in code) this long before each event. */
  setNotifierBusy(microseconds: number): void {
    this.lib.standin_set_notifier_busy_us(microseconds);
  }

  /**
   * true (default): the library's completion thread writes each OVERLAPPED and posts its packet.
   * false: the completing (JS) thread does, as a driver's IRP completion queues it on Windows.
   */
  setCompletionThread(on: boolean): void {
    this.lib.standin_set_completion_thread(on ? 1 : 0);
  }

  /** Completes a request directly (tests of double completion). Returns the library's answer. */
  completeRaw(token: number, status: number, bytes: number): number {
    return this.lib.standin_complete(token, status, bytes);
  }

  stats(): StandinStats {
    const out = new Uint32Array(STAT_NAMES.length);
    this.lib.standin_stats(out, out.length);
    return Object.fromEntries(STAT_NAMES.map((name, i) => [name, out[i]! | 0])) as unknown as StandinStats;
  }

  private handlerFor(iface: number): StandinHandler | undefined {
    if (!this.handlers.has(iface) && this.pendingRaceHandler) {
      this.handlers.set(iface, this.pendingRaceHandler);
      this.pendingRaceHandler = null;
    }
    return this.handlers.get(iface);
  }

  private forward(iface: number, token: number, code: number, inPtr: bigint | null, inLen: number, outPtr: bigint | null, outLen: number): void {
    this.lastToken = token;
    const handler = this.handlerFor(iface);
    if (!handler) return void this.finish(token, ERROR_DEVICE_NOT_CONNECTED, 0);
    const input = inPtr === null ? null : new Uint8Array(koffi.view(inPtr, inLen));
    const output = outPtr === null ? null : new Uint8Array(koffi.view(outPtr, outLen));
    const cancel = new CancelSignal();
    this.inflight.set(token, cancel);
    let result: Promise<number> | number;
    try {
      result = handler.ioctl(code, input, output, cancel as unknown as AbortSignal);
    } catch (err) {
      return void this.fail(token, err); // synchronous failure: completes inside dispatch
    }
    if (typeof result === 'number') return void this.finish(token, 0, result);
    result.then((bytes) => this.finish(token, 0, bytes), (err) => this.fail(token, err));
  }

  private closed(iface: number): void {
    try {
      void Promise.resolve(this.handlers.get(iface)?.close?.()).catch(() => {});
    } catch {
      // a handler's close failing is its own business; the handle is gone either way
    }
  }

  private fail(token: number, err: unknown): void {
    if (err instanceof IoctlError) this.finish(token, err.errno, err.bytesReturned);
    else this.finish(token, ERROR_GEN_FAILURE, 0);
  }

  private finish(token: number, status: number, bytes: number): void {
    this.inflight.delete(token);
    this.lib.standin_complete(token, status, bytes);
  }
}
