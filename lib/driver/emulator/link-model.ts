/**
 * The emulator's optional link model: modelled bus time for the data pipes, so a test or a
 * benchmark can ask "how much of a USB 2 / USB 3 link would this device keep busy?" without
 * reading a wall clock. Off by default (`link: 'instant'`): packets then move as soon as both
 * ends have a transfer queued, and no time is kept.
 *
 * With `link: 'timed'` (or `{ model: 'timed', turnaroundUs }`) each data pipe keeps a modelled
 * clock. A packet of b payload bytes costs `overheadNs + b · nsPerByte` at the enumerated speed,
 * the constants chosen so that back-to-back max-size packets give exactly the payload ceiling:
 *
 * - full speed: USB 2.0 §5.8.4 Table 5-9, 19 bulk transactions of 64 B per 1 ms frame
 *   = 1.216 MB/s payload; raw 12 Mb/s = 1500 B per frame, so each packet's token, handshake,
 *   CRC, sync, EOP and gaps cost (1500 − 19·64)/19 ≈ 14.9 byte times.
 * - high speed: USB 2.0 Table 5-10, 13 × 512 B per 125 µs microframe = 6656 B = 53.248 MB/s;
 *   raw 480 Mb/s = 7500 B per microframe, so (7500 − 6656)/13 ≈ 64.9 byte times per packet.
 * - SuperSpeed (Gen 1, 5 GT/s): 8b/10b leaves 500 MB/s (one symbol = one byte = 2 ns). A data
 *   packet of 1024 B is a header packet (HPSTART 4 + header 12 + CRC-16 2 + link control word 2
 *   = 20 symbols) and its payload (DPPSTART 4 + 1024 + CRC-32 4 + DPPEND 4 = 1036); the same lane
 *   also carries the link commands that accept the host's ACK for it (LGOOD_n + LCRD_x, 8 symbols
 *   each = 16): 1072 symbols per 1024 B. SKP ordered sets (USB 3.2 physical layer: 2 symbols per 354 on
 *   average) stretch that by 356/354: 1072 · 356/354 · 2 ns = 2156.2 ns per packet → 474.9 MB/s payload.
 *   Bursts of 16 × 1024 B (34.5 µs) are far longer than a hub-free link's round trip, so a host
 *   that keeps its ACKs' NumP open never stalls the burst: the model has no per-burst gap.
 *   Host-controller scheduling and flow control are not modelled: Jan Axelson's USB Complete
 *   ("Packets on the Bus") puts the practical figure at around 400 MB/s per direction, so
 *   474.9 MB/s is the protocol's ceiling for one direction, not a promise.
 *
 * What the clock models: each pipe has the link to itself (SuperSpeed is full duplex; on a USB 2
 * bus an IN and an OUT pipe would share it, not modelled). The host is infinitely fast: a host
 * transfer is ready at the pipe's current time. The device is not: a transfer the device queues
 * is ready `turnaroundUs` after the pipe's latest device completion (at once before the first).
 * That is the software path from a transfer's end on the bus to the next one being queued on the
 * controller, which on real hardware leaves the bus idle (NAKs) unless enough transfers are in
 * flight. So that the device's real behaviour decides *what* is queued by then, a pipe moves
 * nothing after a device transfer completes until the device has had its turn: the completion
 * delivered, its reactions (microtasks) run, one more completion batch. Time passes only while
 * packets move or while the bus waits for a turnaround; a halt, a suspend or a host with nothing
 * queued stops the clock. EP0 is not timed.
 */
import type { BusSpeed } from '../driver.js';

/** A speed's packet cost: `overheadNs + payloadBytes · nsPerByte` per packet (ZLP: overheadNs). */
export interface LinkRate {
  readonly overheadNs: number;
  readonly nsPerByte: number;
  /** Payload bytes per second with back-to-back max-size packets. */
  readonly payloadBytesPerSecond: number;
}

function usb2Rate(rawBytesPerFrame: number, frameNs: number, packets: number, mps: number): LinkRate {
  const nsPerByte = frameNs / rawBytesPerFrame;
  return { nsPerByte, overheadNs: ((rawBytesPerFrame - packets * mps) / packets) * nsPerByte, payloadBytesPerSecond: (packets * mps * 1e9) / frameNs };
}

const SS_SYMBOL_NS = 2 * (356 / 354); // 8b/10b at 5 GT/s, stretched by SKP ordered sets
const SS_OVERHEAD_SYMBOLS = 20 + 12 + 16; // header packet, DPP framing + CRC-32, LGOOD_n + LCRD_x

/** The modelled packet cost per enumerated speed (low speed has no bulk: it uses full speed's). */
export const LINK_RATES: Readonly<Record<BusSpeed, LinkRate>> = {
  low: usb2Rate(1500, 1e6, 19, 64),
  full: usb2Rate(1500, 1e6, 19, 64),
  high: usb2Rate(7500, 125e3, 13, 512),
  super: { nsPerByte: SS_SYMBOL_NS, overheadNs: SS_OVERHEAD_SYMBOLS * SS_SYMBOL_NS, payloadBytesPerSecond: 1024e9 / ((1024 + SS_OVERHEAD_SYMBOLS) * SS_SYMBOL_NS) },
};

/** EmulatorOptions.link in its long form. */
export interface LinkModelOptions {
  /** 'instant' (no time kept) or 'timed' (modelled bus time, see the module comment). */
  model: 'instant' | 'timed';
  /** Modelled time from a device transfer's end on the bus to the next device transfer on that pipe being ready. Default 0. */
  turnaroundUs?: number;
}

/** Modelled figures of one data pipe since the device was created (subtract two snapshots for a window). */
export interface LinkStats {
  /** The speed whose rate applies now; undefined while detached. */
  speed: BusSpeed | undefined;
  /** Modelled time the pipe has lived through: busy + idle, in µs. */
  elapsedUs: number;
  /** Modelled time spent moving packets, in µs. */
  busyUs: number;
  /** Modelled time the bus waited for a device transfer's turnaround, in µs. */
  idleUs: number;
  /** Payload bytes moved. */
  bytes: number;
  /** Packets moved (full, short and zero-length). */
  packets: number;
}

/** Payload rate over a window (MB/s) and its share of the speed's payload ceiling. */
export function linkUtilisation(from: LinkStats, to: LinkStats, speed: BusSpeed): { payloadMBps: number; utilisation: number } {
  const us = to.elapsedUs - from.elapsedUs;
  const bytesPerSecond = us > 0 ? ((to.bytes - from.bytes) * 1e6) / us : 0;
  return { payloadMBps: bytesPerSecond / 1e6, utilisation: bytesPerSecond / LINK_RATES[speed].payloadBytesPerSecond };
}

/** The modelled clock of one data pipe (see the module comment). */
export class LinkClock {
  rate: LinkRate = LINK_RATES.high;
  speed: BusSpeed | undefined;
  private nowNs = 0;
  private busyNs = 0;
  private idleNs = 0;
  private bytes = 0;
  private packets = 0;
  /** Bus time of the latest device completion the device has been told of. */
  private deliveredNs = -Infinity;

  /**
   * @param turnaroundNs the device's modelled turnaround
   * @param defer runs its callback on the next completion batch (CompletionQueue.defer), after
   *   every completion decided before it
   */
  constructor(private readonly turnaroundNs: number, private readonly defer: (fn: () => void) => void) {}

  setSpeed(speed: BusSpeed | undefined): void {
    this.speed = speed;
    this.rate = LINK_RATES[speed ?? 'high'];
  }

  /** When a transfer queued now is ready on the bus. */
  readyAt(side: 'device' | 'host'): number {
    return side === 'host' ? this.nowNs : Math.max(this.nowNs, this.deliveredNs + this.turnaroundNs);
  }

  /**
   * A device transfer ends on the bus now (its completion is decided next): runs `resume` once
   * that completion has been delivered and the device has reacted to it (the microtasks after
   * the completion's batch). Transfers the device queues from the delivery on answer it.
   */
  deviceCompleted(resume: () => void): void {
    const endedNs = this.nowNs;
    this.defer(() => {
      this.deliveredNs = endedNs;
      this.defer(resume);
    });
  }

  /** The bus waits (NAKs) until `readyNs` if that is later than now. */
  waitUntil(readyNs: number): void {
    if (readyNs <= this.nowNs) return;
    this.idleNs += readyNs - this.nowNs;
    this.nowNs = readyNs;
  }

  /** `packets` packets carrying `bytes` payload bytes in all moved now. */
  move(bytes: number, packets: number): void {
    const ns = packets * this.rate.overheadNs + bytes * this.rate.nsPerByte;
    this.nowNs += ns;
    this.busyNs += ns;
    this.bytes += bytes;
    this.packets += packets;
  }

  stats(): LinkStats {
    return { speed: this.speed, elapsedUs: (this.busyNs + this.idleNs) / 1e3, busyUs: this.busyNs / 1e3, idleUs: this.idleNs / 1e3, bytes: this.bytes, packets: this.packets };
  }
}
