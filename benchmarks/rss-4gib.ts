/**
 * Question: how much CPU does moving data through BulkPipe cost per GB, and does memory stay
 * flat over a long run (goal: RSS growth < 16 MiB over 4 GiB)?
 *
 * An echo with default pipe settings (`pipe.pipe(pipe)`: 4 × 256 KiB reads, 8 writes in flight)
 * over GenericUsbFnDriver and the emulator; the host sends 4 MiB transfers and reads 1 MiB ones,
 * so every byte crosses BulkPipe twice (read and write). After a 256 MiB warm-up, 4 GiB go through
 * (`--quick`: 256 MiB) in 16 legs (quick: 4), RSS sampled every 20 ms. RSS after a gc() is not a leak
 * detector here: it swings by ±30 MiB with when V8 frees the copied chunks' backing stores and how
 * much malloc keeps. So growth = the peak RSS of the last quarter of the run − the peak of the
 * first quarter: a leak raises the later peaks, allocator slack does not. Also reported: CPU s
 * per GB echoed, and JS heap (heapUsed after gc) growth from the first leg to the end. One fresh
 * process per run; the goal is checked on the median.
 */
import { BulkPipe } from '../lib/stream/bulk-pipe.js';
import { atMost, isMain, type Section, type SectionOptions, type SectionResult } from './section.js';
import { BULK_IN, BULK_OUT, MiB, childConfig, hostEcho, openBenchStack, runChild, summarize } from './stream-stack.js';
import { fileURLToPath } from 'node:url';

interface Config { bytes: number; leg: number }
interface Sample { cpuSPerGB: number; mbps: number; rssGrowthMiB: number; rssPeakMiB: number; heapGrowthMiB: number }

const GOAL_MIB = 16;
/**
 * Gross-regression ceiling for --quick: 256 MiB in 4 legs measured 5–43 MiB of growth on a loaded
 * machine (allocator and GC timing), so only a pipe that keeps most of what it moved fails.
 */
const QUICK_CEILING_MIB = 128;
const gc = () => (globalThis as { gc?: () => void }).gc?.();

async function child(c: Config): Promise<Sample> {
  const stack = await openBenchStack();
  const pipe = new BulkPipe({ driver: stack.driver, link: stack.link, out: BULK_OUT, in: BULK_IN, zlp: 'never' });
  pipe.pipe(pipe);
  const LEG = c.leg;
  await hostEcho(stack, 256 * MiB); // warm-up
  gc();
  const heap0 = process.memoryUsage().heapUsed;
  const legs = Math.max(4, Math.round(c.bytes / LEG));
  const peaks: number[] = [];
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let leg = 0; leg < legs; leg++) {
    peak = process.memoryUsage().rss;
    await hostEcho(stack, LEG);
    peaks.push(Math.max(peak, process.memoryUsage().rss));
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  clearInterval(sampler);
  gc();
  const heap1 = process.memoryUsage().heapUsed;
  pipe.unpipe(pipe);
  pipe.destroy();
  await stack.close();
  const quarter = Math.max(1, Math.floor(legs / 4));
  const bytes = legs * LEG;
  return {
    cpuSPerGB: (cpu.user + cpu.system) / 1e6 / (bytes / 1e9),
    mbps: bytes / seconds / 1e6,
    rssGrowthMiB: (Math.max(...peaks.slice(-quarter)) - Math.max(...peaks.slice(0, quarter))) / MiB,
    rssPeakMiB: Math.max(...peaks) / MiB,
    heapGrowthMiB: (heap1 - heap0) / MiB,
  };
}

async function run(o: SectionOptions): Promise<SectionResult> {
  const bytes = (o.quick ? 256 : 4096) * MiB;
  const runs = o.quick ? 1 : Math.min(o.runs, 3);
  const script = fileURLToPath(import.meta.url);
  const samples = Array.from({ length: runs }, () => runChild<Sample>(script, { bytes, leg: bytes / (o.quick ? 4 : 16) }, ['--expose-gc']));
  const m = (key: keyof Sample) => summarize(samples.map((s) => s[key]));
  const f = (key: keyof Sample, digits: number) => {
    const s = m(key);
    return `${s.median.toFixed(digits)} (${s.min.toFixed(digits)}..${s.max.toFixed(digits)})`;
  };
  const lines = [
    `echo of ${bytes / MiB} MiB through one BulkPipe (defaults) over the emulator, ${runs} fresh process(es); median (min..max)`,
    `CPU s per GB echoed ${f('cpuSPerGB', 2)}, ${f('mbps', 0)} MB/s`,
    `RSS growth (peak of last quarter − peak of first) ${f('rssGrowthMiB', 1)} MiB (goal < ${GOAL_MIB} MiB over 4 GiB); peak RSS ${f('rssPeakMiB', 0)} MiB; JS heap growth ${f('heapGrowthMiB', 2)} MiB`,
  ];
  const ceiling = o.quick ? QUICK_CEILING_MIB : GOAL_MIB;
  return {
    title: `CPU per GB and RSS growth over ${bytes >= 4096 * MiB ? '4 GiB' : `${bytes / MiB} MiB`}`,
    lines,
    data: { bytes, runs, samples },
    checks: [atMost('RSS growth (MiB, peak of last quarter − first)', m('rssGrowthMiB').median, ceiling, 1)],
  };
}

export const rss4GiB: Section = { name: 'rss-4gib', run };

const config = isMain(import.meta.url) ? childConfig<Config>() : null;
if (config) console.log(JSON.stringify(await child(config)));
