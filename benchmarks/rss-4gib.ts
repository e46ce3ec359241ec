/**
 * Question: how much CPU does moving data through BulkPipe cost per GB, and does memory stay
 * flat over a long run (goal: RSS growth < 16 MiB over 4 GiB)?
 *
 * An echo with default pipe settings (`pipe.pipe(pipe)`: 4 × 256 KiB reads, 8 writes in flight)
 * over GenericUsbFnDriver and the emulator; the host sends 4 MiB transfers and reads 1 MiB ones,
 * so every byte crosses BulkPipe twice (read and write). After a 1 GiB warm-up (V8 sizes its young
 * generation and malloc its heap: steady state), 4 GiB go through (`--quick`: 256 MiB after
 * 256 MiB) in 16 legs (quick: 4).
 *
 * What RSS measures here. The peak RSS of a leg is mostly not memory in use: each read is copied
 * into a fresh 256 KiB Buffer, and 25–80 MiB of those dead chunks wait for V8's next GC (it runs
 * on external-memory pressure); glibc then keeps their freed pages (its mmap threshold rises past
 * 256 KiB after the first free). The earlier measure, last quarter's peak − first quarter's with no
 * GC between legs, read 17–21 MiB for usbfn and 18 MiB for the bare Duplex (bare-duplex.ts: no
 * usbfn code, the same reads and writes in flight, its transfers on the same driver and emulator,
 * run beside it here): it tracks GC timing and the allocator's high-water mark, not what the
 * process keeps. So the goal is checked on usbfn's *retained* RSS: after each leg, two full GCs
 * with a 20 ms pause after each (V8 frees ArrayBuffer backing stores on a background thread) and
 * glibc's malloc_trim(0) (through koffi: the allocator's free pages go back to the system), then
 * RSS is read. Growth = retained RSS after the last leg − after the first: memory usbfn keeps
 * while it moves 4 GiB (a leak injected as a check, one 256 KiB copy in 256 kept, 15 MiB over the
 * measured legs, read 16.2 MiB). Without glibc (no malloc_trim) the allocator's cache stays in and
 * the figure says so. Also reported for both: the leg peaks (max, and last-quarter − first-quarter
 * peak, now with the GCs between legs), CPU s per GB echoed (legs only, not the GCs between them),
 * and JS heap (heapUsed after gc) growth. Fresh process per kind and run; the goal is checked on
 * usbfn's median.
 */
import type { Duplex } from 'node:stream';
import { BulkPipe } from '../lib/stream/bulk-pipe.js';
import { BareDuplex } from './bare-duplex.js';
import { atMost, isMain, type Section, type SectionOptions, type SectionResult } from './section.js';
import { BULK_IN, BULK_OUT, MiB, childConfig, hostEcho, openBenchStack, runChild, summarize, type BenchStack } from './stream-stack.js';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

type Kind = 'usbfn' | 'bare';
interface Config { kind: Kind; bytes: number; leg: number; warmUp: number }
interface Sample {
  cpuSPerGB: number;
  mbps: number;
  /** Retained RSS after the last leg − after the first (see the module comment). */
  retainedGrowthMiB: number;
  retainedEndMiB: number;
  /** Whether malloc_trim(0) ran before each retained sample. */
  trimmed: boolean;
  /** Peak RSS of the last quarter of legs − peak of the first quarter (the earlier measure). */
  peakGrowthMiB: number;
  rssPeakMiB: number;
  heapGrowthMiB: number;
}

const GOAL_MIB = 16;
/** Gross-regression ceiling for --quick: a pipe that kept its copies would retain ~256 MiB here; measured 0–4 MiB. */
const QUICK_CEILING_MIB = 64;
const gc = () => (globalThis as { gc?: () => void }).gc?.();
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** glibc's malloc_trim(0) through koffi, or null (not Linux/glibc, or koffi cannot load libc). */
function mallocTrim(): (() => void) | null {
  if (process.platform !== 'linux') return null;
  try {
    const koffi = createRequire(import.meta.url)('koffi') as typeof import('koffi');
    const trim = koffi.load('libc.so.6').func('int malloc_trim(size_t)');
    return () => void trim(0);
  } catch {
    return null;
  }
}

/** RSS once garbage is collected and its backing stores freed, and the allocator trimmed. */
async function retainedRss(trim: (() => void) | null): Promise<number> {
  for (let i = 0; i < 2; i++) {
    gc();
    await pause(20);
  }
  trim?.();
  return process.memoryUsage().rss;
}

/** BulkPipe's defaults: 4 reads of 256 KiB, 8 writes in flight. */
const READS = 4;
const READ_SIZE = 256 * 1024;

/** The echoing stream: a BulkPipe, or the bare Duplex issuing the same transfers on the same driver. */
function echoStream(kind: Kind, stack: BenchStack): Duplex {
  if (kind === 'usbfn') return new BulkPipe({ driver: stack.driver, link: stack.link, out: BULK_OUT, in: BULK_IN, zlp: 'never' }) as unknown as Duplex;
  const outPipe = stack.link.pipe(BULK_OUT)!.pipeId;
  const inPipe = stack.link.pipe(BULK_IN)!.pipeId;
  // BareDuplex has one transfer function: its reads are the slots of its one pool slab, its writes the chunks it pushed.
  const isReadSlot = (b: Buffer) => b.length === READ_SIZE && b.buffer.byteLength === READS * READ_SIZE;
  const issue = (b: Buffer) => (isReadSlot(b) ? stack.driver.transferOut(outPipe, b) : stack.driver.transferIn(inPipe, b));
  // Its reads still pending when the stack closes are cancelled: nothing to report once it is destroyed.
  const transfer = (b: Buffer): Promise<number> => issue(b).catch((err: unknown) => (bare.destroyed ? 0 : Promise.reject(err)));
  const bare: BareDuplex = new BareDuplex({ readsOutstanding: READS, readSize: READ_SIZE, writesInFlight: 8 }, transfer);
  return bare as unknown as Duplex;
}

async function child(c: Config): Promise<Sample> {
  const stack = await openBenchStack();
  const pipe = echoStream(c.kind, stack);
  pipe.pipe(pipe);
  const trim = mallocTrim();
  for (let warm = 0; warm < c.warmUp; warm += c.leg) await hostEcho(stack, c.leg);
  gc();
  const heap0 = process.memoryUsage().heapUsed;
  const legs = Math.max(4, Math.round(c.bytes / c.leg));
  const peaks: number[] = [];
  const retained: number[] = [];
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  let cpuUs = 0;
  let seconds = 0;
  for (let leg = 0; leg < legs; leg++) {
    peak = process.memoryUsage().rss;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await hostEcho(stack, c.leg);
    seconds += (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    cpuUs += cpu.user + cpu.system;
    peaks.push(Math.max(peak, process.memoryUsage().rss));
    retained.push(await retainedRss(trim));
  }
  clearInterval(sampler);
  gc();
  const heap1 = process.memoryUsage().heapUsed;
  pipe.unpipe(pipe);
  pipe.destroy();
  await stack.close();
  const quarter = Math.max(1, Math.floor(legs / 4));
  const bytes = legs * c.leg;
  return {
    cpuSPerGB: cpuUs / 1e6 / (bytes / 1e9),
    mbps: bytes / seconds / 1e6,
    retainedGrowthMiB: (retained[retained.length - 1] - retained[0]) / MiB,
    retainedEndMiB: retained[retained.length - 1] / MiB,
    trimmed: trim !== null,
    peakGrowthMiB: (Math.max(...peaks.slice(-quarter)) - Math.max(...peaks.slice(0, quarter))) / MiB,
    rssPeakMiB: Math.max(...peaks) / MiB,
    heapGrowthMiB: (heap1 - heap0) / MiB,
  };
}

async function run(o: SectionOptions): Promise<SectionResult> {
  const bytes = (o.quick ? 256 : 4096) * MiB;
  const leg = bytes / (o.quick ? 4 : 16);
  const warmUp = (o.quick ? 256 : 1024) * MiB;
  const runs = o.quick ? 1 : Math.min(o.runs, 3);
  const kinds: Kind[] = o.quick ? ['usbfn'] : ['usbfn', 'bare'];
  const script = fileURLToPath(import.meta.url);
  const samples: Record<Kind, Sample[]> = { usbfn: [], bare: [] };
  for (let r = 0; r < runs; r++) for (const kind of kinds) samples[kind].push(runChild<Sample>(script, { kind, bytes, leg, warmUp }, ['--expose-gc']));
  const m = (kind: Kind, key: keyof Omit<Sample, 'trimmed'>) => summarize(samples[kind].map((s) => s[key]));
  const f = (kind: Kind, key: keyof Omit<Sample, 'trimmed'>, digits: number) => {
    const s = m(kind, key);
    return `${s.median.toFixed(digits)} (${s.min.toFixed(digits)}..${s.max.toFixed(digits)})`;
  };
  const trimmed = samples.usbfn.every((s) => s.trimmed) ? 'after gc + malloc_trim(0)' : 'after gc; no malloc_trim here: includes the allocator cache';
  const lines = [
    `echo of ${bytes / MiB} MiB after ${warmUp / MiB} MiB of warm-up, over the emulator, ${runs} fresh process(es) per kind; median (min..max)`,
    `retained RSS: ${trimmed}, between legs; growth = after the last leg − after the first`,
    'kind  | CPU s/GB          | MB/s          | retained growth MiB | retained MiB | peak MiB      | peak growth MiB  | JS heap growth MiB',
    ...kinds.map((k) =>
      `${k.padEnd(5)} | ${f(k, 'cpuSPerGB', 2).padEnd(17)} | ${f(k, 'mbps', 0).padEnd(13)} | ${f(k, 'retainedGrowthMiB', 1).padEnd(19)} | ${f(k, 'retainedEndMiB', 0).padEnd(12)} | ` +
      `${f(k, 'rssPeakMiB', 0).padEnd(13)} | ${f(k, 'peakGrowthMiB', 1).padEnd(16)} | ${f(k, 'heapGrowthMiB', 2)}`),
    `peak = RSS sampled every 20 ms during the legs (dead copy chunks awaiting GC, malloc's high-water); peak growth = last quarter's peak − first quarter's`,
  ];
  const ceiling = o.quick ? QUICK_CEILING_MIB : GOAL_MIB;
  return {
    title: `CPU per GB and RSS growth over ${bytes >= 4096 * MiB ? '4 GiB' : `${bytes / MiB} MiB`}`,
    lines,
    data: { bytes, leg, warmUp, runs, samples },
    checks: [atMost('retained RSS growth (MiB, last leg − first, after gc + malloc_trim)', m('usbfn', 'retainedGrowthMiB').median, ceiling, 1)],
  };
}

export const rss4GiB: Section = { name: 'rss-4gib', run };

const config = isMain(import.meta.url) ? childConfig<Config>() : null;
if (config) console.log(JSON.stringify(await child(config)));
