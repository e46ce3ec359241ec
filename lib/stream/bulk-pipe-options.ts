/**
 * Options of a BulkPipe (and of its lone halves, BulkReader and BulkWriter), their defaults and
 * their validation. Defaults were chosen with benchmarks/stream-throughput.ts (see README of the
 * benchmark results and the comments below).
 */
import type { BusLink } from '../bus-link.js';
import type { UsbFnDriver } from '../driver/driver.js';
import { ErrorCodes, UsbFnError } from '../errors.js';
import { checkOptions, checkSignal, checkType } from '../validate.js';

/** Every BulkPipe option: anything else (a typo such as `zlpp`) is INVALID_ARG. */
export const PIPE_OPTION_KEYS = [
  'driver', 'link', 'out', 'in', 'readsOutstanding', 'readSize', 'readBuffers', 'writesInFlight', 'zlp', 'packetMode',
  'onBusLoss', 'cancelledWrites', 'onStall', 'stallPollMs', 'readableHighWaterMark', 'writableHighWaterMark', 'signal',
] as const;

/** What a pipe does when the cable goes away (Detach). Reset and unconfigure always 'wait'. */
export type BusLossPolicy = 'wait' | 'end' | 'destroy';

export interface BulkPipeOptions {
  /** The driver the transfers go to. Required. */
  driver: UsbFnDriver;
  /** The bus state: pipes stop on 'deconfigured' and resume on 'configured'. Required. */
  link: BusLink;
  /** OUT endpoint address (host to device, e.g. 0x01): the readable side. */
  out?: number;
  /** IN endpoint address (device to host, e.g. 0x81): the writable side. */
  in?: number;
  /** TRANSFER_OUT requests kept outstanding while the readable side has room. Default 4. */
  readsOutstanding?: number;
  /**
   * Bytes per TRANSFER_OUT, a multiple of wMaxPacketSize at every speed (checked on each
   * 'configured'); also the size of each pooled buffer. A host transfer longer than this arrives
   * as several chunks. Default 262144 (256 KiB).
   * 'packet': each TRANSFER_OUT is one packet of the current speed's wMaxPacketSize (pooled
   * buffers of 1024 bytes, the largest bulk packet). Why: a read completes only when its buffer
   * is full or a short packet arrives, so a host that sends a multiple of wMaxPacketSize with no
   * short packet after it (Linux cdc_acm does) leaves those bytes in a larger, part-filled read
   * until more data comes; one-packet reads deliver every byte as soon as its packet arrives, as
   * a byte stream such as a serial port needs (the kernel's own u_serial reads so). Byte mode only.
   */
  readSize?: number | 'packet';
  /**
   * How received bytes leave the pool. 'copy': every completed read is copied once into an
   * exact-size Buffer and its pool buffer is reused at once (the pool never grows; memory is
   * exactly what the readable side counts). 'swap': a read that filled at least half its buffer
   * is pushed as is, without a copy, and the pool allocates a replacement (so a chunk may hold
   * up to twice its length); shorter reads are copied as with 'copy'. Default 'copy'.
   * Measured with benchmarks/stream-read-copy.ts (reader alone, 4 outstanding): swap 559 vs
   * 489 MB/s at 64 KiB, 820 vs 485 at 256 KiB; in an echo the gain is within noise, since the
   * per-chunk allocation both need costs more than the copy. 'copy' keeps the pool fixed and
   * the readable side's byte count equal to the memory it holds.
   * 'lend' (zero-copy): every chunk pushed is a view of a pool buffer, lent to the consumer until
   * it hands the chunk back with `returnChunk(chunk)`; until then the pipe never reuses it. The
   * pool holds 2 × readsOutstanding buffers (still at most readsOutstanding reads: the rest are
   * for the consumer to hold) and a read is issued only while one is free, so a consumer that
   * keeps its chunks stops reading (the host is NAKed) rather than growing memory.
   * Rule: after `returnChunk(chunk)`, never touch that chunk again (its bytes will be overwritten);
   * returning a chunk twice, or one this pipe did not lend, throws USBFN_ERR_INVALID_ARG.
   */
  readBuffers?: 'copy' | 'swap' | 'lend';
  /** TRANSFER_IN requests in flight: writes are acknowledged early within this window. Default 8. */
  writesInFlight?: number;
  /**
   * 'auto' (default): a write whose length is a multiple of wMaxPacketSize (0 included) ends with
   * a zero-length packet, so the host's read ends there. 'never': no ZLP is appended (and in byte
   * mode an empty write sends nothing). A per-write `zlp` overrides either.
   */
  zlp?: 'auto' | 'never';
  /**
   * objectMode on both sides: one written chunk is one TRANSFER_IN (a Buffer/Uint8Array, or
   * `{ data, zlp }`), one read chunk is one completed TRANSFER_OUT, and a received ZLP arrives as
   * an empty Buffer. Default false (byte stream: ZLPs are invisible).
   */
  packetMode?: boolean;
  /**
   * On Detach: 'wait' (default) as for a reset, resume on the next 'configured'; 'end' ends the
   * readable side (EOF) and fails writes not yet delivered with USBFN_ERR_DISCONNECTED;
   * 'destroy' destroys the stream with USBFN_ERR_DISCONNECTED.
   */
  onBusLoss?: BusLossPolicy;
  /**
   * Writes in flight when a reset/unconfigure/detach cancels them: 'resend' (default) sends each
   * again, once, in order, after the next 'configured'; 'fail' destroys the stream with a
   * USBFN_ERR_CANCELED error.
   */
  cancelledWrites?: 'resend' | 'fail';
  /**
   * A transfer failing on a stalled pipe: 'wait' (default) emits 'stall' ({ direction, error }
   * with error.code USBFN_ERR_STALLED) and holds that direction until the halt is cleared
   * (clearStall(), the host's CLEAR_FEATURE seen by polling, or a reconfiguration), then resumes:
   * a failed write is sent again, a failed read received nothing. 'error' destroys the stream
   * with the USBFN_ERR_STALLED error.
   */
  onStall?: 'wait' | 'error';
  /** While a direction is held by a stall, GET_PIPE_STATE is polled this often (ms). 0 disables. Default 100. */
  stallPollMs?: number;
  /** Readable buffer limit: bytes (default readsOutstanding × readSize) or, in packet mode, chunks (default readsOutstanding). */
  readableHighWaterMark?: number;
  /**
   * Writable buffer limit beyond the in-flight window: bytes (default writesInFlight × readSize)
   * or, in packet mode, chunks (default writesInFlight). So a writer that waits for 'drain'
   * keeps writesInFlight transfers in flight and up to as many waiting, refilled in batches.
   */
  writableHighWaterMark?: number;
  /** Aborting destroys the stream (with an AbortError), cancelling every pending transfer. */
  signal?: AbortSignal;
}

export interface ResolvedPipeOptions {
  readsOutstanding: number;
  /** Bytes per pooled buffer (and per read unless packetReads). */
  readSize: number;
  /** readSize 'packet': each read asks for one wMaxPacketSize packet. */
  packetReads: boolean;
  readBuffers: 'copy' | 'swap' | 'lend';
  writesInFlight: number;
  zlp: 'auto' | 'never';
  packetMode: boolean;
  onBusLoss: BusLossPolicy;
  cancelledWrites: 'resend' | 'fail';
  onStall: 'wait' | 'error';
  stallPollMs: number;
  readableHighWaterMark: number;
  writableHighWaterMark: number;
}

/**
 * Defaults, chosen with `npx tsx benchmarks/stream-throughput.ts` (BulkPipe echo over the
 * emulator, 128 MiB per run, median of 5 fresh-process runs, 2 vCPUs, 2026-11-25):
 * - readSize 256 KiB: 527–644 MB/s and 2.4–2.8 CPU s/GB, against 289–327 MB/s and 4.8–5.2 s/GB
 *   at 64 KiB and 124–193 MB/s, 6.4–8.0 s/GB at 16 KiB. Per-transfer costs dominate.
 * - readsOutstanding 4: best median at 256 KiB (644 MB/s; 1, 2, 8: 527, 546, 558), and
 *   4 × 256 KiB = 1 MiB in flight rides out the 5–16 ms completion gaps at USB 2 speed
 *   (gaps of 1.8–16 ms were measured while streaming flat out: GC, a busy event loop).
 * - writesInFlight 8: flat within noise on the emulator (1..16: 253–313 MB/s at 64 KiB), whose
 *   completions are instant; with real asynchronous completions a window of 8 gave 3.7× one
 *   (koffi → C transport, 16 KiB: 350 MB/s with one in flight, 1.3 GB/s with 8).
 * - readBuffers 'copy': see the option (swap is faster reading alone, within noise in the echo).
 *   Its cost is mostly fresh memory, not the copy: glibc serves each 256 KiB chunk from the brk
 *   heap once its dynamic mmap threshold has risen, then trims the heap when the GC frees chunks
 *   together, so the next chunks fault their pages in again (~45 page faults a chunk). A reader
 *   alone on /dev/zero through FunctionFsDriver (2026-12-02): 1.5–2.3 CPU ms/MiB, 0.5 with
 *   MALLOC_MMAP_THRESHOLD_=1048576 MALLOC_TRIM_THRESHOLD_=67108864 in the environment, 0.2 with
 *   'lend'. Process-wide malloc tuning is the application's call, not a library's.
 * - writableHighWaterMark writesInFlight × readSize (byte mode): at readSize, a write of readSize
 *   bytes (the natural chunk) always returned false, so a writer paid a 'drain' per write;
 *   benchmarks/ffs-throughput.sh (usbfn vs usbfn-hwm1, IN) measures the difference.
 */
export const BULK_PIPE_DEFAULTS = Object.freeze({
  readsOutstanding: 4,
  readSize: 256 * 1024,
  readBuffers: 'copy',
  writesInFlight: 8,
  zlp: 'auto',
  packetMode: false,
  onBusLoss: 'wait',
  cancelledWrites: 'resend',
  onStall: 'wait',
  stallPollMs: 100,
} as const);

/** wMaxPacketSize of a SuperSpeed bulk endpoint: no bulk packet is larger. */
const LARGEST_BULK_PACKET = 1024;

const invalid = (message: string) => new UsbFnError(ErrorCodes.INVALID_ARG, message, { operation: 'BulkPipe' });

function count(name: string, value: number | undefined, fallback: number, max: number): number {
  const n = value ?? fallback;
  if (!Number.isInteger(n) || n < 1 || n > max) throw invalid(`${name} must be an integer 1..${max}, got ${value}`);
  return n;
}

function oneOf<T extends string>(name: string, value: T | undefined, fallback: T, allowed: readonly T[]): T {
  const v = value ?? fallback;
  if (!allowed.includes(v)) throw invalid(`${name} must be one of ${allowed.join(', ')}, got ${String(value)}`);
  return v;
}

/** Keys and JavaScript types: what a value of any type could get wrong before the range checks. */
function checkShapes(o: BulkPipeOptions): void {
  checkOptions('BulkPipe', o, PIPE_OPTION_KEYS);
  checkType('BulkPipe', 'packetMode', o.packetMode, 'boolean');
  checkSignal('BulkPipe', o.signal);
  for (const name of ['readableHighWaterMark', 'writableHighWaterMark'] as const) {
    const v = o[name];
    if (v !== undefined && (!Number.isInteger(v) || v < 0)) throw invalid(`${name} must be an integer ≥ 0, got ${String(v)}`);
  }
}

/** Validates the options and fills in every default. Throws USBFN_ERR_INVALID_ARG. */
export function resolvePipeOptions(o: BulkPipeOptions): ResolvedPipeOptions {
  if (!o || !o.driver || !o.link) throw invalid('driver and link are required');
  checkShapes(o);
  if (o.out === undefined && o.in === undefined) throw invalid('give an OUT endpoint (out), an IN endpoint (in), or both');
  if (o.out !== undefined && (!Number.isInteger(o.out) || (o.out & 0x80) !== 0 || (o.out & 0x0f) === 0)) throw invalid(`out must be an OUT endpoint address 0x01..0x0f, got ${o.out}`);
  if (o.in !== undefined && (!Number.isInteger(o.in) || (o.in & 0x80) === 0 || (o.in & 0x0f) === 0)) throw invalid(`in must be an IN endpoint address 0x81..0x8f, got ${o.in}`);
  const D = BULK_PIPE_DEFAULTS;
  const readsOutstanding = count('readsOutstanding', o.readsOutstanding, D.readsOutstanding, 64);
  const packetMode = o.packetMode ?? D.packetMode;
  const packetReads = o.readSize === 'packet';
  if (packetReads && packetMode) throw invalid("readSize 'packet' is for byte mode (packetMode: false)");
  const readSize = packetReads ? LARGEST_BULK_PACKET : count('readSize', o.readSize as number | undefined, D.readSize, 16 * 1024 * 1024);
  if (readSize % 64 !== 0) throw invalid(`readSize must be a multiple of 64 (every wMaxPacketSize divides it), got ${readSize}`);
  const writesInFlight = count('writesInFlight', o.writesInFlight, D.writesInFlight, 64);
  const stallPollMs = o.stallPollMs ?? D.stallPollMs;
  if (!Number.isFinite(stallPollMs) || stallPollMs < 0) throw invalid(`stallPollMs must be ≥ 0, got ${o.stallPollMs}`);
  return {
    readsOutstanding,
    readSize,
    packetReads,
    readBuffers: oneOf('readBuffers', o.readBuffers, D.readBuffers, ['copy', 'swap', 'lend']),
    writesInFlight,
    zlp: oneOf('zlp', o.zlp, D.zlp, ['auto', 'never']),
    packetMode,
    onBusLoss: oneOf('onBusLoss', o.onBusLoss, D.onBusLoss, ['wait', 'end', 'destroy']),
    cancelledWrites: oneOf('cancelledWrites', o.cancelledWrites, D.cancelledWrites, ['resend', 'fail']),
    onStall: oneOf('onStall', o.onStall, D.onStall, ['wait', 'error']),
    stallPollMs,
    readableHighWaterMark: o.readableHighWaterMark ?? (packetMode ? readsOutstanding : readsOutstanding * readSize),
    writableHighWaterMark: o.writableHighWaterMark ?? (packetMode ? writesInFlight : writesInFlight * readSize),
  };
}
