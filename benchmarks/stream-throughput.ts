/**
 * Question: which readsOutstanding × readSize (and writesInFlight) should BulkPipe default to?
 *
 * Workload: a BulkPipe echo (`pipe.pipe(pipe)`) over the emulator; the simulated host sends
 * `--mib` MiB in 4 MiB transfers and reads them back in 1 MiB reads (zlp 'never', so host reads
 * span writes and the host's own cost stays the same across configurations).
 * Ceiling, measured in the same run and in the same kind of fresh process: the same echo with no
 * streams at all, straight on the driver: the same N reads outstanding into fixed buffers, each
 * completed read written back (M in flight) from the buffer it landed in, no copy.
 *
 * Each (kind, configuration) runs in a fresh process, `--runs` times, interleaved; the table shows
 * median (min..max) MB/s and CPU seconds per GB, and the ratio of medians.
 *
 *   npx tsx benchmarks/stream-throughput.ts [--runs 5] [--mib 128] [--sweep reads|writes|all]
 */
import { BulkPipe } from '../lib/stream/bulk-pipe.js';
import {
  BULK_IN, BULK_OUT, MiB, childConfig, fmt, hostEcho, measure, openBenchStack, option, runChild, summarize, writeResult, type BenchStack,
} from './stream-stack.js';

interface Config {
  kind: 'pipe' | 'ceiling';
  readBuffers?: 'copy' | 'swap';
  readsOutstanding: number;
  readSize: number;
  writesInFlight: number;
  mib: number;
}

interface Sample {
  mbps: number;
  cpuPerGB: number;
}

/** The echo without streams: N reads outstanding, each completed read written back in order, M writes in flight. */
function driverEcho(stack: BenchStack, total: number, c: Config): Promise<void> {
  const { driver, link } = stack;
  const outId = link.pipe(BULK_OUT)!.pipeId;
  const inId = link.pipe(BULK_IN)!.pipeId;
  const free: Buffer[] = Array.from({ length: c.readsOutstanding + c.writesInFlight }, () => Buffer.allocUnsafeSlow(c.readSize));
  const reads: Array<{ buf: Buffer; n: number; done: boolean }> = [];
  let toIssue = Math.ceil(total / c.readSize);
  let writing = 0;
  let written = 0;
  return new Promise<void>((resolve, reject) => {
    const pump = (): void => {
      while (reads.length > 0 && reads[0].done && writing < c.writesInFlight) {
        const r = reads.shift()!;
        writing++;
        driver.transferIn(inId, r.buf.subarray(0, r.n)).then(() => {
          writing--;
          written += r.n;
          free.push(r.buf);
          if (written >= total) resolve();
          else pump();
        }, reject);
      }
      while (toIssue > 0 && reads.length < c.readsOutstanding && free.length > 0) {
        const slot = { buf: free.pop()!, n: 0, done: false };
        toIssue--;
        reads.push(slot);
        driver.transferOut(outId, slot.buf).then((n) => {
          slot.n = n;
          slot.done = true;
          pump();
        }, reject);
      }
    };
    pump();
  });
}

async function child(c: Config): Promise<Sample> {
  const stack = await openBenchStack();
  const total = c.mib * MiB;
  const warm = 16 * MiB;
  let result: Sample;
  if (c.kind === 'pipe') {
    const pipe = new BulkPipe({
      driver: stack.driver, link: stack.link, out: BULK_OUT, in: BULK_IN,
      readsOutstanding: c.readsOutstanding, readSize: c.readSize, writesInFlight: c.writesInFlight, zlp: 'never', readBuffers: c.readBuffers,
    });
    pipe.pipe(pipe);
    result = await measure(total, warm, (bytes) => hostEcho(stack, bytes));
    pipe.destroy();
  } else {
    result = await measure(total, warm, (bytes) => Promise.all([hostEcho(stack, bytes), driverEcho(stack, bytes, c)]).then(() => undefined));
  }
  await stack.close();
  return result;
}

function configs(sweep: string, mib: number): Array<Omit<Config, 'kind'>> {
  const out: Array<Omit<Config, 'kind'>> = [];
  if (sweep === 'reads' || sweep === 'all') {
    for (const readSize of [16 * 1024, 64 * 1024, 256 * 1024]) {
      for (const readsOutstanding of [1, 2, 4, 8]) out.push({ readsOutstanding, readSize, writesInFlight: 8, mib });
    }
  }
  if (sweep === 'writes' || sweep === 'all') {
    for (const writesInFlight of [1, 2, 4, 8, 16]) out.push({ readsOutstanding: 4, readSize: 64 * 1024, writesInFlight, mib });
  }
  return out;
}

function parent(): void {
  const runs = option('runs', 5);
  const mib = option('mib', 128);
  const i = process.argv.indexOf('--sweep');
  const sweep = i >= 0 ? process.argv[i + 1] : 'all';
  const script = new URL(import.meta.url).pathname;
  const rows = [];
  console.log(`BulkPipe echo over the emulator, ${mib} MiB per run, ${runs} runs per cell, each in a fresh process`);
  console.log('reads × size     writes | BulkPipe MB/s            | ceiling MB/s (driver only) | pipe/ceiling | pipe CPU s/GB');
  for (const cfg of configs(sweep, mib)) {
    const pipe: Sample[] = [];
    const ceiling: Sample[] = [];
    for (let r = 0; r < runs; r++) {
      pipe.push(runChild<Sample>(script, { ...cfg, kind: 'pipe' }));
      ceiling.push(runChild<Sample>(script, { ...cfg, kind: 'ceiling' }));
    }
    const p = summarize(pipe.map((s) => s.mbps));
    const c = summarize(ceiling.map((s) => s.mbps));
    const cpu = summarize(pipe.map((s) => s.cpuPerGB));
    rows.push({ ...cfg, pipe: p, ceiling: c, pipeCpuPerGB: cpu, ceilingCpuPerGB: summarize(ceiling.map((s) => s.cpuPerGB)) });
    const label = `${String(cfg.readsOutstanding).padStart(2)} × ${String(cfg.readSize / 1024).padStart(3)} KiB  ${String(cfg.writesInFlight).padStart(2)}`;
    console.log(`${label}     | ${fmt(p).padEnd(24)} | ${fmt(c).padEnd(26)} | ${(p.median / c.median).toFixed(2).padStart(12)} | ${fmt(cpu, 2)}`);
  }
  const file = writeResult('stream-throughput', { node: process.version, runs, mib, rows });
  console.log(`\nwritten to ${file}`);
}

const config = childConfig<Config>();
if (config) console.log(JSON.stringify(await child(config)));
else parent();
