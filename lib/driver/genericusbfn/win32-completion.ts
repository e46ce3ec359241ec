/**
 * The I/O completion port and its one harvester. Every Win32 device of the process is associated
 * with one shared port (its completion key tells the devices apart), so however many devices and
 * requests are open, exactly one koffi async call is blocked: GetQueuedCompletionStatusEx on a
 * thread of libuv's threadpool (koffi runs async calls there; UV_THREADPOOL_SIZE threads, 4 by
 * default, shared with fs, dns, crypto and zlib), returning a batch of OVERLAPPED_ENTRYs. A
 * BUS_EVENT_NOTIFICATION may pend for hours, so a blocked call per request is never an option
 * (with those threads all blocked, an unrelated fs.stat was measured waiting 195 ms). The
 * harvester holds one of those threads for as long as a device is open: see warnSmallThreadpool (win32-threadpool.ts).
 *
 * Design: a batch of entries per call; while completions keep coming the harvester polls the
 * port on the next event-loop turns with a synchronous zero-timeout call and blocks again only
 * after `poll` empty polls (the measurements behind the defaults: win32-harvester-tuning.ts).
 * The blocked call waits at most `timeoutMs` (by default WAKE_INTERVAL_MS, 1 s, one wake a
 * second while idle, not the 100 of a 10 ms timeout): Node joins libuv's threads when a process or worker ends, and a
 * call blocked for good would make process.exit(), an uncaught exception and worker.terminate()
 * hang forever. At process exit an 'exit' listener wakes it at once with a packet; the timeout
 * bounds the teardowns that run no JS (worker.terminate()).
 * Shutdown wakes the blocked call with a PostQueuedCompletionStatus packet (key 0, no OVERLAPPED).
 * While any device is open the blocked call keeps Node's event loop alive; once the last device
 * closes, the harvester is woken, the port closed, and nothing is left pending.
 */
import koffi from 'koffi';
import createDebug from 'debug';
import { INFINITE, WAIT_TIMEOUT } from '../../../native-defs/win32-api.js';
import { IoctlError } from './ioctl-device.js';
import { INVALID_HANDLE_VALUE, kernel32, OVERLAPPED_ENTRY_LAYOUT, readPointer, type Kernel32 } from './win32-ffi.js';
import { harvesterOptions, type HarvesterOptions } from './win32-harvester-tuning.js';
import { warnSmallThreadpool } from './win32-threadpool.js';

const debug = createDebug('usbfn:win32');

/** The packet that stops the harvester: completion key 0 (no device has it), no OVERLAPPED. */
const WAKE_KEY = 0;
/**
 * The port's NumberOfConcurrentThreads. 0 would mean one per CPU: on a 1–2 core board a pool
 * thread that dequeued a batch and went on to run other libuv work still counts against the port,
 * and the event loop's zero-timeout poll gets nothing while packets wait. The harvester is the
 * only consumer, so no limit is wanted.
 */
const PORT_CONCURRENCY = 0x7fffffff;
/**
 * Same-turn harvests (expectPacket) allowed per event-loop turn: a transport that always completes
 * at once still lets the event loop run after at most this many (× batch completions).
 */
const SAME_TURN_POLLS = 16;
/** Queues same-turn harvests: a `.then` on it costs one promise, where queueMicrotask also makes an AsyncResource. */
const RESOLVED = Promise.resolve();

/** The harvester's tuning lives in win32-harvester-tuning.ts; re-exported for the benchmarks. */
export { configureHarvester, type HarvesterOptions } from './win32-harvester-tuning.js';

/** What a device gives the port: called with each harvested OVERLAPPED address, on the JS thread. */
export interface CompletionSink {
  onCompletion(overlapped: number): void;
}

let shared: CompletionPort | null = null;

export class CompletionPort {
  /** The process's port, created (and its harvester started) when the first device needs it. */
  static acquire(): CompletionPort {
    if (!shared) shared = new CompletionPort(kernel32(), harvesterOptions());
    return shared;
  }

  private readonly sinks = new Map<number, CompletionSink>();
  private readonly handle: bigint;
  private readonly entries: bigint;
  private readonly entriesView: DataView;
  private readonly removed: bigint;
  private readonly removedView: DataView;
  private nextKey = WAKE_KEY + 1;
  private emptyPolls = 0;
  /**
   * What comes next: a poll on the next event-loop turn ('poll'), the blocked call (out on a pool
   * thread, writing `entries`: nothing else may touch them then), or nothing ('stopped').
   */
  private mode: 'poll' | 'wait' | 'stopped' = 'wait';
  private sameTurnQueued = false;
  private sameTurnBudget = SAME_TURN_POLLS;
  /** A same-turn harvest got packets (counts as busy at the turn's poll) or the wake packet. */
  private sameTurnBusy = false;
  private sameTurnWoken = false;
  private readonly pollNextTurn = () => this.poll();
  private readonly sameTurnHarvest = () => this.harvestSameTurn();
  private stopping = false;
  private stopped: Promise<void>;
  private onStopped!: () => void;
  /** Wakes the blocked call when the process exits, so Node's join of libuv's threads returns. */
  private readonly onExit = () => this.wake('process exit');

  private constructor(private readonly k32: Kernel32, private readonly tuning: Required<HarvesterOptions>) {
    const port = k32.CreateIoCompletionPort(INVALID_HANDLE_VALUE, null, 0, PORT_CONCURRENCY);
    if (port === null) throw new IoctlError(k32.GetLastError(), 0, 'CreateIoCompletionPort failed');
    this.handle = port;
    const bytes = tuning.batch * OVERLAPPED_ENTRY_LAYOUT.size;
    try {
      this.entries = koffi.alloc('uint8_t', bytes) as bigint;
    } catch (err) {
      k32.CloseHandle(port);
      throw err;
    }
    this.entriesView = new DataView(koffi.view(this.entries, bytes));
    this.removed = koffi.alloc('uint32_t', 1) as bigint;
    this.removedView = new DataView(koffi.view(this.removed, 4));
    this.stopped = new Promise((resolve) => (this.onStopped = resolve));
    process.once('exit', this.onExit);
    warnSmallThreadpool();
    debug('completion port opened (%o)', tuning);
    this.wait();
  }

  /** Associates a device handle with the port; its completions go to `sink`. Returns its key. */
  associate(file: bigint, sink: CompletionSink): number {
    const key = this.nextKey++;
    if (this.k32.CreateIoCompletionPort(file, this.handle, key, 0) === null) {
      const errno = this.k32.GetLastError();
      if (this.sinks.size === 0) void this.shutdown();
      throw new IoctlError(errno, 0, `CreateIoCompletionPort (associate) failed with Win32 error ${errno}`);
    }
    this.sinks.set(key, sink);
    return key;
  }

  /**
   * A device's request completed inside its call (NtDeviceIoControlFile returned neither
   * STATUS_PENDING nor an error): its packet is queued already. While the harvester is polling,
   * it is harvested in this turn, in a microtask, as the pure-JS path settles at once, instead of
   * waiting for the next event-loop turn (~5 µs a turn on a loaded 2-vCPU VM, all of it paid by
   * the few completions of that turn). At most SAME_TURN_POLLS such harvests per turn.
   */
  expectPacket(): void {
    if (this.sameTurnQueued || this.mode !== 'poll' || this.sameTurnBudget === 0 || this.sameTurnWoken) return;
    this.sameTurnBudget--;
    this.sameTurnQueued = true;
    void RESOLVED.then(this.sameTurnHarvest);
  }

  /** Forgets a device (all its completions harvested); the last one out closes the port. */
  release(key: number): Promise<void> {
    this.sinks.delete(key);
    return this.sinks.size === 0 ? this.shutdown() : Promise.resolve();
  }

  private shutdown(): Promise<void> {
    if (shared === this) shared = null;
    if (!this.stopping) {
      this.stopping = true;
      this.wake('last device closed');
      this.stopped = this.stopped.then(() => this.dispose());
    }
    return this.stopped;
  }

  /** Posts the wake packet: the blocked call (or the next poll) returns with it and stops. */
  private wake(why: string): void {
    if (!this.k32.PostQueuedCompletionStatus(this.handle, 0, WAKE_KEY, null)) {
      debug('PostQueuedCompletionStatus (wake: %s) failed: %d', why, this.k32.GetLastError());
    }
  }

  private dispose(): void {
    process.removeListener('exit', this.onExit);
    this.k32.CloseHandle(this.handle);
    koffi.free(this.entries);
    koffi.free(this.removed);
    debug('completion port closed');
  }

  /** Issues the one blocked call; its callback dispatches what it got and decides what is next. */
  private wait(): void {
    this.mode = 'wait';
    const { batch, timeoutMs } = this.tuning;
    const onResult = (err: unknown, ok: number) => {
      if (err) debug('GetQueuedCompletionStatusEx call failed: %O', err);
      let n = ok ? this.removedView.getUint32(0, true) : 0;
      let woken = this.dispatch(n);
      if (this.tuning.drain && this.tuning.poll === 0) woken = this.drain() || woken;
      let broken = false;
      if (!ok && !err && !this.stopping) {
        // Timed out, or the port itself failed: the call's last error stayed on the pool thread,
        // so look again from here, where GetLastError tells the two apart.
        if (this.k32.GetQueuedCompletionStatusEx(this.handle, this.entries, batch, this.removed, 0, 0)) {
          n = this.removedView.getUint32(0, true);
          woken = this.dispatch(n) || woken;
        } else {
          broken = timeoutMs === INFINITE || this.k32.GetLastError() !== WAIT_TIMEOUT;
        }
      }
      if (broken) {
        // Nothing more can arrive: stop rather than spin. Devices opened from now on get a
        // working port of their own; the ones on this port cannot be harvested, and their
        // buffers stay referenced rather than freed under the kernel.
        debug('GetQueuedCompletionStatusEx failed: harvester stops');
        if (shared === this) shared = null;
      }
      this.next(n > 0, woken || broken || (this.stopping && !ok));
    };
    try {
      this.k32.GetQueuedCompletionStatusEx.async(this.handle, this.entries, batch, this.removed, timeoutMs, 0, onResult);
    } catch (err) {
      // koffi refuses async calls past max_async_calls: the pool is busy elsewhere; try again soon.
      debug('cannot issue the harvester call (%s); retrying in 1 ms', (err as Error).message);
      setTimeout(() => this.wait(), 1);
    }
  }

  /**
   * After a batch: stop, block again, or (option `poll`, while busy) look again on the next
   * event-loop turn with a synchronous zero-timeout call, which costs ~0.4 µs where the blocked
   * call's round trip through a libuv thread costs tens of µs. An empty poll goes back to
   * blocking, so an idle port costs nothing.
   */
  private next(busy: boolean, stop: boolean): void {
    this.emptyPolls = busy ? 0 : this.emptyPolls + 1;
    if (stop) {
      this.mode = 'stopped';
      this.onStopped();
    } else if (this.emptyPolls < this.tuning.poll) {
      this.mode = 'poll';
      setImmediate(this.pollNextTurn);
    } else {
      this.wait();
    }
  }

  private poll(): void {
    const ok = this.k32.GetQueuedCompletionStatusEx(this.handle, this.entries, this.tuning.batch, this.removed, 0, 0);
    const n = ok ? this.removedView.getUint32(0, true) : 0;
    const woken = this.dispatch(n) || this.sameTurnWoken;
    const busy = n > 0 || this.sameTurnBusy;
    this.sameTurnBusy = false;
    this.sameTurnBudget = SAME_TURN_POLLS;
    this.next(busy, woken);
  }

  /** expectPacket's microtask: one zero-timeout call, only while no blocked call is out. */
  private harvestSameTurn(): void {
    this.sameTurnQueued = false;
    if (this.mode !== 'poll' || this.sameTurnWoken) return;
    const ok = this.k32.GetQueuedCompletionStatusEx(this.handle, this.entries, this.tuning.batch, this.removed, 0, 0);
    const n = ok ? this.removedView.getUint32(0, true) : 0;
    if (n > 0) this.sameTurnBusy = true;
    if (this.dispatch(n)) this.sameTurnWoken = true; // the turn's poll stops the harvester
  }

  /** Polls without waiting until the port is empty; true if the wake packet was among them. */
  private drain(): boolean {
    let woken = false;
    const { batch } = this.tuning;
    while (this.k32.GetQueuedCompletionStatusEx(this.handle, this.entries, batch, this.removed, 0, 0)) {
      const n = this.removedView.getUint32(0, true);
      woken = this.dispatch(n) || woken;
      if (n < batch) break; // fewer than asked: the port was empty, skip the call that proves it
    }
    return woken;
  }

  /** Hands each of the first `n` entries to its device; true if the wake packet was among them. */
  private dispatch(n: number): boolean {
    let woken = false;
    const view = this.entriesView;
    for (let i = 0; i < n; i++) {
      const at = i * OVERLAPPED_ENTRY_LAYOUT.size;
      const key = readPointer(view, at + OVERLAPPED_ENTRY_LAYOUT.key);
      const overlapped = readPointer(view, at + OVERLAPPED_ENTRY_LAYOUT.overlapped);
      if (key === WAKE_KEY && overlapped === 0) {
        woken = true;
        continue;
      }
      const sink = this.sinks.get(key);
      if (!sink) {
        debug('completion for unknown key %d (OVERLAPPED 0x%s) ignored', key, overlapped.toString(16));
        continue;
      }
      try {
        sink.onCompletion(overlapped);
      } catch (err) {
        debug('completion handler threw: %O', err); // never let one device stop the harvester
      }
    }
    return woken;
  }
}
