/**
 * Question: how close does the product path (BulkPipe → GenericUsbFnDriver → IoctlDevice) come to
 * a bare readable-stream Duplex doing the same work, and how much CPU and JS heap does it burn?
 *
 * Workload: reads (host → device), writes (device → host) and echo (`pipe.pipe(pipe)`) at each
 * transfer size, with default pipe settings (readSize = the transfer size). Transfers complete
 * instantly: the IoctlDevice under the real GenericUsbFnDriver resolves every TRANSFER_IN/OUT at
 * once with its full length (setup and bus events still go through the emulator), so what is
 * measured is usbfn's own cost. Ceiling, same run: BareDuplex (bare-duplex.ts), with the same
 * completion (one `.then` on a resolved promise), pool, windows and copy-out and no usbfn code.
 *
 * Per (op, size, kind) a fresh process (performance-notes.md pitfall 9), `--runs` times,
 * interleaved. Each child: warm-up, a timed run (transfers/s, CPU µs per transfer, CPU s per GB),
 * then a heap window: gc(), N transfers with a 64 MiB young generation so that no collection
 * runs, heapUsed growth / N = JS heap allocated per transfer (NaN if a collection ran anyway).
 *
 * Runs on the built JavaScript (benchmarks/run.ts builds it): tsx inflates these figures.
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { BulkPipe } from '../lib/stream/bulk-pipe.js';
import * as IOCTL from '../native-defs/ioctl.js';
import { BULK_PIPE_DEFAULTS } from '../lib/stream/bulk-pipe-options.js';
import type { IoctlDevice } from '../lib/driver/genericusbfn/ioctl-device.js';
import { BareDuplex } from './bare-duplex.js';
import { BULK_IN, BULK_OUT, openBenchStack } from './stream-stack.js';

/** 'read-lend': reads with readBuffers 'lend' (zero-copy; the consumer returns each chunk at once); bare still copies. */
export type Op = 'read' | 'write' | 'echo' | 'read-lend';
export type Kind = 'usbfn' | 'bare';
export const NODE_ARGS = ['--expose-gc', '--min-semi-space-size=64', '--max-semi-space-size=64'];

export interface TransferConfig {
  op: Op;
  kind: Kind;
  size: number;
  /** Transfers in the timed run. */
  count: number;
}

export interface TransferSample {
  tps: number;
  cpuUsPerTransfer: number;
  cpuSPerGB: number;
  heapBytesPerTransfer: number;
}

const TRANSFER_CODES = new Set([
  IOCTL.IOCTL_GENERICUSBFN_TRANSFER_IN,
  IOCTL.IOCTL_GENERICUSBFN_TRANSFER_IN_APPEND_ZERO_PKT,
  IOCTL.IOCTL_GENERICUSBFN_TRANSFER_OUT,
].map((c) => c >>> 0));

/** Completes every bulk transfer at once with its full length; everything else goes to `inner`. */
export function instantTransfers(inner: IoctlDevice): IoctlDevice {
  return {
    ioctl(code, input, output, signal) {
      if (TRANSFER_CODES.has(code >>> 0)) return Promise.resolve(output?.length ?? 0);
      return inner.ioctl(code, input, output, signal);
    },
    close: () => inner.close(),
  };
}

type Duplexish = BulkPipe | BareDuplex;

/** Runs `count` transfers of `op` on `stream`; resolves when the last has completed. */
export function drive(stream: Duplexish, op: Op, size: number, count: number): Promise<void> {
  if (op === 'write') return writeN(stream, size, count);
  return new Promise((resolve) => {
    let n = 0;
    const lend = op === 'read-lend' && stream instanceof BulkPipe;
    const onData = (chunk: Buffer) => {
      if (lend) stream.returnChunk(chunk);
      if (++n < count) return;
      stream.off('data', onData);
      stream.pause();
      if (op === 'echo') (stream as BareDuplex).unpipe(stream as BareDuplex);
      resolve();
    };
    stream.on('data', onData);
    // BulkPipe is typed as a node:stream Duplex, BareDuplex as readable-stream's: same runtime shape.
    if (op === 'echo') (stream as BareDuplex).pipe(stream as BareDuplex, { end: false });
    stream.resume();
  });
}

function writeN(stream: Duplexish, size: number, count: number): Promise<void> {
  const chunk = Buffer.alloc(size, 0x5a);
  return new Promise((resolve) => {
    let n = 0;
    const more = (): void => {
      while (n < count) {
        n++;
        if (!stream.write(chunk)) return void stream.once('drain', more);
      }
      // every write accepted; the last ones complete on the next microtasks
      setImmediate(resolve);
    };
    more();
  });
}

/** Counts garbage collections that start at or after `since` (performance.now() time). */
function gcCounter(since: number): { count: () => number; stop: () => void } {
  let gcs = 0;
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) if (entry.startTime >= since) gcs++;
  });
  observer.observe({ entryTypes: ['gc'] });
  return { count: () => gcs, stop: () => observer.disconnect() };
}

/** JS heap allocated per transfer over `count` transfers, or NaN if a collection ran meanwhile. */
export async function heapPerTransfer(stream: Duplexish, c: TransferConfig, count: number): Promise<number> {
  (globalThis as { gc?: () => void }).gc?.();
  const gcs = gcCounter(performance.now());
  const h0 = process.memoryUsage().heapUsed;
  await drive(stream, c.op, c.size, count);
  const h1 = process.memoryUsage().heapUsed;
  await new Promise((r) => setTimeout(r, 10)); // let the observer report
  gcs.stop();
  return gcs.count() === 0 ? (h1 - h0) / count : NaN;
}

export async function runTransferChild(c: TransferConfig): Promise<TransferSample> {
  const stack = await openBenchStack({ transfers: instantTransfers });
  const options = { readsOutstanding: BULK_PIPE_DEFAULTS.readsOutstanding, readSize: c.size, writesInFlight: BULK_PIPE_DEFAULTS.writesInFlight };
  const stream: Duplexish = c.kind === 'bare'
    ? new BareDuplex(options)
    : new BulkPipe({ driver: stack.driver, link: stack.link, out: BULK_OUT, in: BULK_IN, zlp: 'never', readBuffers: c.op === 'read-lend' ? 'lend' : 'copy', ...options });
  stream.on('error', (err) => {
    console.error(err);
    process.exit(2);
  });
  await drive(stream, c.op, c.size, Math.ceil(c.count / 4));
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await drive(stream, c.op, c.size, c.count);
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuS = (cpu.user + cpu.system) / 1e6;
  const heap = await heapPerTransfer(stream, c, Math.min(c.count, 2000));
  stream.destroy();
  await stack.close();
  return {
    tps: c.count / seconds,
    cpuUsPerTransfer: (cpuS * 1e6) / c.count,
    cpuSPerGB: cpuS / ((c.count * c.size) / 1e9),
    heapBytesPerTransfer: heap,
  };
}
