/**
 * FaultInjector: what a hostile world does to a USB function, on demand or at random, so users
 * can prove their device survives it (and usbfn's soak does). It drives the emulator's host and
 * driver side only, never the code under test: bus resets, detach and re-attach, unconfigure
 * and reconfigure, suspend and resume, a host that halts an endpoint and clears it later, a host
 * that stops reading or sending for a while, a host that abandons a control transfer in its data
 * stage or sends a new SETUP before the status stage, driver errors on IOCTLs, a notification
 * with an event code nobody knows, and byte counts past the caller's buffer.
 *
 * 'ioctlError' and 'badByteCount' arm the emulator's injectFault() and clear every injected
 * fault when they end: do not mix them with your own injectFault() calls.
 *
 * Every fault recovers by itself (the bus is configured again, the halt cleared, the host
 * reading again) before inject() resolves, so a run can go on. Random choices come from a seeded
 * generator (`seed`, printed by whoever runs it): the same seed replays the same faults.
 *
 * "Stops reading / sending" is the host's behaviour, so the host loops take part: they await
 * `gate(endpointAddress)` before each bulkIn / bulkOut, which holds while such a fault lasts.
 */
import { ERROR_DEVICE_NOT_CONNECTED, ERROR_GEN_FAILURE } from '../../../native-defs/win32-errors.js';
import * as IOCTL from '../../../native-defs/ioctl.js';
import type { SetupPacket } from '../../../native-defs/codec.js';
import type { BusSpeed } from '../driver.js';
import type { EmulatedGenericUsbFn } from './emulated-device.js';
import { createPrng, type Prng } from './prng.js';

/** The faults a FaultInjector can inject. */
export type FaultKind =
  | 'reset' | 'detach' | 'unconfigure' | 'suspend' | 'hostStall' | 'hostStopsReading' | 'hostStopsSending'
  | 'controlAbandon' | 'setupBeforeStatus' | 'ioctlError' | 'unknownEvent' | 'badByteCount';

/** Every kind, in a fixed order (the default random pool). */
export const FAULT_KINDS: readonly FaultKind[] = [
  'reset', 'detach', 'unconfigure', 'suspend', 'hostStall', 'hostStopsReading', 'hostStopsSending',
  'controlAbandon', 'setupBeforeStatus', 'ioctlError', 'unknownEvent', 'badByteCount',
];

/** A driver error to inject: the next IOCTL with `code` (on `pipeId`, if given) fails with `errno`. */
export interface IoctlErrorChoice {
  code: number;
  pipeId?: number;
  errno: number;
}

/**
 * The default driver errors: on EP0 and pipe-state requests, where they fail one answer or one
 * query. (ERROR_GEN_FAILURE on a data transfer fails its stream by design: pass such choices in
 * `ioctlErrors` to test that.)
 */
export const DEFAULT_IOCTL_ERRORS: readonly IoctlErrorChoice[] = [
  { code: IOCTL.IOCTL_GENERICUSBFN_CONTROL_STATUS_HANDSHAKE_IN, errno: ERROR_GEN_FAILURE },
  { code: IOCTL.IOCTL_GENERICUSBFN_CONTROL_STATUS_HANDSHAKE_OUT, errno: ERROR_GEN_FAILURE },
  { code: IOCTL.IOCTL_GENERICUSBFN_TRANSFER_IN, pipeId: 0, errno: ERROR_DEVICE_NOT_CONNECTED },
  { code: IOCTL.IOCTL_GENERICUSBFN_TRANSFER_OUT, pipeId: 0, errno: ERROR_GEN_FAILURE },
  { code: IOCTL.IOCTL_GENERICUSBFN_GET_PIPE_STATE, errno: ERROR_GEN_FAILURE },
];

/** Options of a FaultInjector; all optional. */
export interface FaultInjectorOptions {
  /** Seed of the random choices (uint32). Default: from the clock; read it back from `seed`. */
  seed?: number;
  /** The pool injectRandom() and start() draw from. Default FAULT_KINDS. */
  kinds?: readonly FaultKind[];
  /** The data endpoints the host-side faults use. Default: the emulator's first IN / OUT endpoint. */
  inEndpoint?: number;
  outEndpoint?: number;
  /** Speed of each re-enumeration. Default 'high'. */
  speed?: BusSpeed;
  /** How long a fault lasts before it recovers, [min, max] ms. Default [0, 20]. */
  outageMs?: readonly [number, number];
  /**
   * The least time between a reset, detach or unconfigure and the host configuring the device
   * again. Default 10 ms: USB 2.0 §7.1.7.5 holds a bus reset for at least 10 ms, and a host
   * re-enumerates no faster. 0 plays a host that reconfigures in the same instant.
   */
  minReenumerateMs?: number;
  /** The class request the control faults send (its wLength must be > 0). Default: OUT to interface 0, 64 bytes. */
  controlRequest?: SetupPacket;
  /** The driver errors 'ioctlError' draws from. Default DEFAULT_IOCTL_ERRORS. */
  ioctlErrors?: readonly IoctlErrorChoice[];
}

/** Which IOCTL arms a fault (armOnIoctl). */
export interface IoctlTrigger {
  code?: number;
  pipeId?: number;
  /** Fire on the nth matching IOCTL from now (1 = the next). Default 1. */
  nth?: number;
  /** 'issue': before the driver handles it; 'queued' (default): just after (it is pending or done). */
  when?: 'issue' | 'queued';
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Faults on one EmulatedGenericUsbFn; see the module comment. */
export class FaultInjector {
  /** The seed the random choices come from: print it, and pass it back to replay a run. */
  readonly seed: number;
  /** Faults injected so far, by kind. */
  readonly counts: Record<FaultKind, number>;
  private readonly prng: Prng;
  private readonly kinds: readonly FaultKind[];
  private readonly inEndpoint: number | undefined;
  private readonly outEndpoint: number | undefined;
  private readonly held = new Map<number, { until: Promise<void> }>();
  private running: Promise<void> | null = null;
  private stopping = false;

  constructor(private readonly device: EmulatedGenericUsbFn, private readonly options: FaultInjectorOptions = {}) {
    this.seed = (options.seed ?? (Date.now() ^ (process.pid << 16))) >>> 0;
    this.prng = createPrng(this.seed);
    this.kinds = options.kinds ?? FAULT_KINDS;
    this.counts = Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>;
    const endpoints = device.options.endpoints;
    this.inEndpoint = options.inEndpoint ?? endpoints.find((e) => e.isIn)?.address;
    this.outEndpoint = options.outEndpoint ?? endpoints.find((e) => !e.isIn)?.address;
  }

  /** Faults injected so far, all kinds. */
  get total(): number {
    return Object.values(this.counts).reduce((a, b) => a + b, 0);
  }

  /**
   * Injects one fault now and resolves once it has recovered (the bus configured again, the halt
   * cleared, the host moving data again). Never rejects for a bus the run changed meanwhile
   * (another fault, the device closing): the fault is then simply over.
   */
  async inject(kind: FaultKind): Promise<void> {
    this.counts[kind]++;
    try {
      await this.run(kind);
    } catch {
      // The bus moved under the fault (a concurrent fault, a closed device): nothing to recover.
    }
    await this.recover();
  }

  /** Injects one fault drawn from the pool; resolves with its kind once it has recovered. */
  async injectRandom(): Promise<FaultKind> {
    const kind = this.prng.pick(this.kinds);
    await this.inject(kind);
    return kind;
  }

  /**
   * Fires `kind` when the device issues a matching IOCTL: a fault at an exact point of a
   * transfer or a control request. One-shot; the fault runs as inject() does.
   */
  armOnIoctl(trigger: IoctlTrigger, kind: FaultKind): void {
    let left = trigger.nth ?? 1;
    const listener = (info: { code: number; pipeId?: number }) => {
      if (trigger.code !== undefined && info.code !== trigger.code >>> 0) return;
      if (trigger.pipeId !== undefined && info.pipeId !== trigger.pipeId) return;
      if (--left > 0) return;
      this.device.off('ioctl', listener);
      if (trigger.when === 'issue') void this.inject(kind);
      else queueMicrotask(() => void this.inject(kind));
    };
    this.device.on('ioctl', listener);
  }

  /** Injects random faults, one after another, `meanGapMs` apart on average, until stop(). */
  start(meanGapMs: number): void {
    if (this.running) return;
    this.stopping = false;
    this.running = (async () => {
      while (!this.stopping && !this.device.closed) {
        await delay(Math.round(this.prng.next() * 2 * meanGapMs));
        if (this.stopping || this.device.closed) break;
        await this.injectRandom();
      }
    })();
  }

  /** Stops start()'s loop; resolves once the fault in progress has recovered. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.running;
    this.running = null;
  }

  /** Host loops await this before each bulk call on `endpointAddress`: it holds while the host "stops". */
  async gate(endpointAddress: number): Promise<void> {
    for (let h = this.held.get(endpointAddress); h; h = this.held.get(endpointAddress)) await h.until;
  }

  private outage(): number {
    const [min, max] = this.options.outageMs ?? [0, 20];
    return this.prng.int(min, max);
  }

  private reenumerateAfter(): number {
    return Math.max(this.options.minReenumerateMs ?? 10, this.outage());
  }

  private async run(kind: FaultKind): Promise<void> {
    const host = this.device.host;
    switch (kind) {
      case 'reset':
        host.reset(this.options.speed ?? 'high');
        return delay(this.reenumerateAfter());
      case 'detach':
        host.detach();
        return delay(this.reenumerateAfter());
      case 'unconfigure':
        host.unconfigure();
        return delay(this.reenumerateAfter());
      case 'suspend':
        host.suspend();
        await delay(this.outage());
        return host.resume();
      case 'hostStall':
        return this.hostStall();
      case 'hostStopsReading':
      case 'hostStopsSending':
        return this.hold(kind === 'hostStopsReading' ? this.inEndpoint : this.outEndpoint);
      case 'controlAbandon':
        return this.abandonControl();
      case 'setupBeforeStatus':
        return this.setupBeforeStatus();
      case 'ioctlError':
        return this.ioctlError();
      case 'unknownEvent':
        return host.rawEvent(this.prng.int(100, 0xffff), Uint8Array.from({ length: 8 }, () => this.prng.int(0, 255)));
      case 'badByteCount':
        return this.badByteCount();
    }
  }

  /** SET_FEATURE(ENDPOINT_HALT) from the host, then CLEAR_FEATURE after the outage. */
  private async hostStall(): Promise<void> {
    const endpoint = this.prng.chance(0.5) ? this.inEndpoint : this.outEndpoint;
    if (endpoint === undefined) return;
    const feature = (bRequest: number) => this.device.host.controlTransfer({ bmRequestType: 0x02, bRequest, wValue: 0, wIndex: endpoint, wLength: 0 });
    await feature(3);
    await delay(this.outage());
    await feature(1);
  }

  private async hold(endpoint: number | undefined): Promise<void> {
    if (endpoint === undefined || this.held.has(endpoint)) return;
    const until = delay(this.outage() * 5);
    this.held.set(endpoint, { until });
    await until;
    this.held.delete(endpoint);
  }

  private request(): SetupPacket {
    return this.options.controlRequest ?? { bmRequestType: 0x21, bRequest: 0x7e, wValue: 0, wIndex: this.device.options.interfaceNumber, wLength: 64 };
  }

  /** A host-to-device request whose data stage the host abandons part-way (an aborted signal). */
  private async abandonControl(): Promise<void> {
    const setup = this.request();
    const abort = new AbortController();
    const data = new Uint8Array(setup.bmRequestType & 0x80 ? 0 : setup.wLength);
    const transfer = this.device.host.controlTransfer(setup, data, { signal: abort.signal, timeoutMs: 1000 }).catch(() => undefined);
    await delay(this.prng.int(0, 2));
    abort.abort();
    await transfer;
  }

  /** Two SETUPs back to back: the first is superseded before its status stage. */
  private async setupBeforeStatus(): Promise<void> {
    const setup = this.request();
    const data = new Uint8Array(setup.bmRequestType & 0x80 ? 0 : setup.wLength);
    const first = this.device.host.controlTransfer(setup, data, { timeoutMs: 1000 }).catch(() => undefined);
    await delay(this.prng.int(0, 1));
    const second = this.device.host.controlTransfer(setup, data, { timeoutMs: 1000 }).catch(() => undefined);
    await Promise.all([first, second]);
  }

  private async ioctlError(): Promise<void> {
    const choice = this.prng.pick(this.options.ioctlErrors ?? DEFAULT_IOCTL_ERRORS);
    this.device.injectFault({ code: choice.code, pipeId: choice.pipeId, errno: choice.errno });
    if (choice.pipeId === 0) await this.setupBeforeStatus(); // give EP0 a request to fail
    else await delay(this.outage());
    this.device.clearFaults(); // one that found no victim does not linger into the next fault
  }

  /** An EP0 TRANSFER_OUT that moves its data, then claims more bytes than its buffer holds. */
  private async badByteCount(): Promise<void> {
    const setup = { ...this.request(), bmRequestType: 0x21 };
    this.device.injectFault({ code: IOCTL.IOCTL_GENERICUSBFN_TRANSFER_OUT, pipeId: 0, errno: 0, bytesReturned: setup.wLength + 1 + this.prng.int(0, 1 << 20), at: 'completion' });
    await this.device.host.controlTransfer(setup, new Uint8Array(setup.wLength), { timeoutMs: 1000 }).catch(() => undefined);
    this.device.clearFaults();
  }

  /** Brings the bus back to configured (and resumed), whatever the fault left. */
  private async recover(): Promise<void> {
    const host = this.device.host;
    if (this.device.closed) return;
    try {
      if (host.state === 'suspended') host.resume();
      const speed = this.options.speed ?? 'high';
      if (host.state === 'detached') await host.enumerate({ speed, timeoutMs: 5000 });
      if (host.state === 'attached') host.reset(speed);
      if (host.state === 'default') host.configure(1);
    } catch {
      // closed meanwhile
    }
  }
}
