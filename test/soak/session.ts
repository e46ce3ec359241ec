/**
 * One soak run on one backend: a UsbFnDevice with a BulkPipe streaming records both ways, EP0
 * answering class requests concurrently, and a FaultInjector firing at random. The host side
 * (the emulator's SimulatedHost) checks the device's records; the device checks the host's.
 * Host calls the bus cancels are continued, not restarted: a cancelled bulkIn's `received`
 * bytes are kept, a cancelled bulkOut sends only what the device had not taken.
 */
import { UsbFnDevice, type BulkPipe } from '../../lib/index.js';
import { FAULT_KINDS, FaultInjector, type EmulatedGenericUsbFn, type FaultKind } from '../../lib/driver/emulator/index.js';
import type { BackendStack, TestBackend } from '../backends.js';
import { RecordReader, encodeRecord, type RecordTally } from './records.js';

const IN = 0x81;
const OUT = 0x01;

export interface SoakLimits {
  seed: number;
  seconds: number;
  bytes: number;
  meanFaultGapMs: number;
  /** Go on (within `seconds`) until at least this many faults were injected, even past `bytes`. Default 0. */
  minFaults?: number;
  /** The fault kinds to draw from; default every kind. */
  kinds?: FaultKind[];
}

export interface SoakResult {
  backend: string;
  seconds: number;
  bytesMoved: number;
  toHost: RecordTally & { sent: number };
  toDevice: RecordTally & { sent: number };
  controlRequests: number;
  faults: Record<FaultKind, number>;
  faultsTotal: number;
  leftAfterClose: { poolBuffers: number; pendingIoctls: number; pipeTransfers: number; listeners: number };
  unfinished: string[];
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
/** Record sizes 16 B .. 64 KiB + 16, some header-only, from the seed. */
const sizeOf = (seq: number, seed: number) => ((seq * 7919 + seed) % 9 === 0 ? 0 : ((seq * 2654435761 + seed) >>> 0) % 65536);

/** Waits for `work`, at most `ms` (then calls `onTimeout`), leaving no timer behind. */
async function within(work: Promise<unknown>, ms: number, onTimeout: () => void): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => (timer = setTimeout(() => (onTimeout(), resolve()), ms)));
  await Promise.race([work, timeout]);
  clearTimeout(timer);
}

const tally = (r: RecordReader): RecordTally => ({ records: r.records, bytes: r.bytes, duplicated: r.duplicated, lost: r.lost, corrupt: r.corrupt });

class SoakSession {
  readonly toDevice = new RecordReader();
  readonly toHost = new RecordReader();
  readonly unfinished: string[] = [];
  readonly faults: FaultInjector;
  readonly emu: EmulatedGenericUsbFn;
  stopping = false;
  devSent = 0;
  hostSent = 0;
  controlRequests = 0;

  constructor(readonly stack: BackendStack, readonly device: UsbFnDevice, readonly pipe: BulkPipe, readonly limits: SoakLimits) {
    this.emu = stack.device;
    this.faults = new FaultInjector(this.emu, { seed: limits.seed, outageMs: [0, 15], kinds: limits.kinds ?? FAULT_KINDS });
    pipe.on('error', (e) => this.unfinished.push(`pipe error: ${e}`));
    pipe.on('data', (chunk: Buffer) => this.toDevice.feed(chunk));
    device.control.handle({ type: 'class' }, (req) => {
      if (req.direction === 'deviceToHost') return Buffer.alloc(Math.min(8, req.wLength), req.bRequest);
      if (req.wLength > 0) void req.receive().catch(() => undefined);
    });
    device.control.on('answerError', () => undefined); // injected EP0 failures: expected, counted by the injector
    device.control.on('handlerError', () => undefined);
  }

  get moved(): number {
    return this.toDevice.bytes + this.toHost.bytes;
  }

  /** Both bounds met: the bytes, and the faults a long run must prove it survived. */
  get reachedBounds(): boolean {
    return this.moved >= this.limits.bytes && this.faults.total >= (this.limits.minFaults ?? 0);
  }

  /** After a failed host call: a moment (a halted endpoint refuses at once), then the bus back. */
  async configured(): Promise<void> {
    do await sleep(1);
    while (this.stack.host.state !== 'configured' && !this.emu.closed);
  }

  async deviceWriter(): Promise<void> {
    for (; !this.stopping && !this.pipe.destroyed; this.devSent++) {
      if (!this.pipe.write(encodeRecord(this.devSent, sizeOf(this.devSent, this.limits.seed)))) await new Promise((r) => this.pipe.once('drain', r));
    }
  }

  private get allReadByHost(): boolean {
    return this.stopping && this.toHost.next >= this.devSent && this.pipe.writableLength === 0 && this.pipe.stats.writesPending === 0;
  }

  async hostReader(): Promise<void> {
    while (!this.allReadByHost && !this.pipe.destroyed) {
      await this.faults.gate(IN);
      try {
        this.toHost.feed(await this.stack.host.bulkIn(IN, 256 * 1024, { timeoutMs: 200 }));
      } catch (err) {
        const received = (err as { received?: Uint8Array }).received;
        if (received?.length) this.toHost.feed(received);
        await this.configured();
      }
    }
  }

  async hostWriter(): Promise<void> {
    for (; !this.stopping; this.hostSent++) {
      const record = encodeRecord(this.hostSent, sizeOf(this.hostSent, ~this.limits.seed));
      for (let at = 0; at < record.length; ) {
        await this.faults.gate(OUT);
        try {
          await this.stack.host.bulkOut(OUT, record.subarray(at), { timeoutMs: 500 });
          break;
        } catch (err) {
          at += (err as { bytesTransferred?: number }).bytesTransferred ?? 0;
          await this.configured();
        }
      }
    }
  }

  async hostControl(): Promise<void> {
    for (; !this.stopping; this.controlRequests++) {
      const bRequest = 1 + (this.controlRequests % 200);
      try {
        const answer = await this.stack.host.controlTransfer({ bmRequestType: 0xa1, bRequest, wValue: 0, wIndex: 0, wLength: 8 }, undefined, { timeoutMs: 500 });
        if (answer.length !== 8 || answer.some((b) => b !== bRequest)) this.unfinished.push(`control answer corrupt for bRequest ${bRequest}`);
      } catch {
        await this.configured(); // a fault took it: the next one goes on
      }
      await sleep(2);
    }
  }

  /** Stops producing, lets the faults recover, and waits until both readers have every record. */
  async drain(writers: Promise<unknown>, hostReader: Promise<void>): Promise<void> {
    this.stopping = true;
    await this.faults.stop();
    await this.configured();
    await within(writers, 20_000, () => this.unfinished.push('writers did not stop'));
    await within(hostReader, 20_000, () => this.unfinished.push(`host reader waits: ${this.toHost.next}/${this.devSent} records`));
    const deadline = Date.now() + 20_000;
    while (this.toDevice.next < this.hostSent && Date.now() < deadline) await sleep(5);
    if (this.toDevice.next < this.hostSent) this.unfinished.push(`device reader: ${this.toDevice.next}/${this.hostSent} records`);
    for (const a of this.toHost.anomalies.slice(0, 3)) this.unfinished.push(`to host: ${a}`);
    for (const a of this.toDevice.anomalies.slice(0, 3)) this.unfinished.push(`to device: ${a}`);
  }

  result(backend: string, seconds: number): SoakResult {
    const stats = this.pipe.stats;
    return {
      backend,
      seconds,
      bytesMoved: this.moved,
      toHost: { ...tally(this.toHost), sent: this.devSent },
      toDevice: { ...tally(this.toDevice), sent: this.hostSent },
      controlRequests: this.controlRequests,
      faults: { ...this.faults.counts },
      faultsTotal: this.faults.total,
      leftAfterClose: {
        poolBuffers: stats.poolInUse,
        pendingIoctls: this.emu.pending(),
        pipeTransfers: stats.readsPending + stats.writesPending,
        listeners: this.emu.listenerCount('ioctl') + this.emu.listenerCount('complete'),
      },
      unfinished: this.unfinished,
    };
  }
}

/** Runs one soak on `backend` within `limits`; `onProgress` gets a line every 10 s. */
export async function soak(backend: TestBackend, limits: SoakLimits, onProgress: (line: string) => void): Promise<SoakResult> {
  const stack = await backend.create();
  const device = await UsbFnDevice.open({ driver: stack.driver });
  const s = new SoakSession(stack, device, device.openPipe({ in: IN, out: OUT }), limits);
  const started = Date.now();
  await stack.host.enumerate({ speed: 'high' });
  s.faults.start(limits.meanFaultGapMs);
  const writers = Promise.all([s.deviceWriter(), s.hostWriter(), s.hostControl()]);
  const hostReader = s.hostReader();
  for (let lastReport = started; Date.now() < started + limits.seconds * 1000 && !s.reachedBounds && !s.pipe.destroyed; ) {
    await sleep(100);
    if (Date.now() - lastReport < 10_000) continue;
    lastReport = Date.now();
    onProgress(`${backend.name}: ${((lastReport - started) / 1000).toFixed(0)} s, ${(s.moved / 2 ** 20).toFixed(0)} MiB, ${s.faults.total} faults`);
  }
  await s.drain(writers, hostReader);
  await device.close();
  await stack.close();
  return s.result(backend.name, (Date.now() - started) / 1000);
}
