/**
 * The AbortSignals a Win32IoctlDevice listens to, each with one 'abort' listener however many of
 * its requests are pending (a BulkPipe passes one signal for all its transfers): adding and
 * removing a listener per request cost ~0.3 µs, a tenth of a transfer. A signal stays listened to
 * after its requests settle, so its next request costs a Set lookup; the idle ones are let go
 * once LISTENED_SIGNALS_MAX are listened to (a caller passing a fresh signal per request never
 * makes the set, or the signals it holds, grow past that), and all of them at the device's close.
 * An abort cancels, through the device, every pending request that carries the signal.
 */

/** What this reads of a device's request record (one per OVERLAPPED slot, see win32-device.ts). */
export interface SignalCarrier {
  /** The kernel may still use the request's buffers. */
  live: boolean;
  signal: AbortSignal | null;
}

/** Signals listened to at once before the idle ones are let go (see the module comment). */
const LISTENED_SIGNALS_MAX = 64;

/** One device's listened signals; see the module comment. */
export class ListenedSignals {
  /**
   * The signals listened to. The device tests `has` itself before add() on its per-request path,
   * so a signal already listened to costs no call here.
   */
  readonly listened = new Set<AbortSignal>();
  private readonly onAbort = (event: Event): void => {
    const signal = event.target as AbortSignal;
    this.listened.delete(signal); // its listener was `once`
    for (let slot = 0; slot < this.requests.length; slot++) {
      const request = this.requests[slot]!;
      if (request.live && request.signal === signal) this.cancel(slot);
    }
  };

  /** `requests`: the device's records by slot (read, never written); `cancel` asks CancelIoEx for a slot. */
  constructor(private readonly requests: readonly SignalCarrier[], private readonly cancel: (slot: number) => void) {}

  /** Listens to `signal` (not listened to yet), letting idle ones go first past the limit. */
  add(signal: AbortSignal): void {
    if (this.listened.size >= LISTENED_SIGNALS_MAX) this.sweep();
    this.listened.add(signal);
    signal.addEventListener('abort', this.onAbort, { once: true });
  }

  /** Lets go of every listened signal no pending request carries (all of them once closed). */
  sweep(): void {
    const inUse = new Set<AbortSignal>();
    for (const request of this.requests) if (request.live && request.signal) inUse.add(request.signal);
    for (const signal of this.listened) {
      if (inUse.has(signal)) continue;
      signal.removeEventListener('abort', this.onAbort);
      this.listened.delete(signal);
    }
  }
}
