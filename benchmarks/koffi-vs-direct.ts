/**
 * Question: what do koffi and the completion harvester cost? GenericUsbFnDriver on the emulator
 * directly ('direct') vs GenericUsbFnDriver → Win32IoctlDevice → koffi → the C stand-in's
 * kernel32 → emulator ('koffi'), same run, same workload: the host streams bulk OUT data and the
 * device keeps `--outstanding` TRANSFER_OUTs of the transfer size pending, re-issuing each as it
 * completes. Reported: transfers/s, MB/s, CPU s/GB; median (min..max) over `--runs` fresh
 * processes per configuration (performance-notes.md pitfall 9).
 * `--sweep harvester` instead compares harvester designs on the koffi path (batch size, the
 * synchronous drain after each batch, polling on the next turns, INFINITE vs a 10 ms timeout).
 * The stand-in posts each completion from the completing thread, as an IRP completion queues its
 * packet on Windows; `--completion-thread` adds its own completion thread's extra hop instead.
 * The koffi figures still include the stand-in's forwarding (a JS callback per request and two
 * koffi.view buffers), which Windows does not have: they are a floor, not an estimate.
 *
 *   npx tsx benchmarks/koffi-vs-direct.ts [--runs 5] [--seconds 2] [--outstanding 8] [--sweep harvester] [--completion-thread]
 *
 * The stand-in is built with `cc` if needed; without one only 'direct' runs.
 */
import { configureHarvester, type HarvesterOptions } from '../lib/driver/genericusbfn/win32-completion.js';
import { INFINITE } from '../native-defs/win32-api.js';
import type { BackendStack } from '../test/backends.js';
import { EmulatedGenericUsbFn } from '../lib/driver/emulator/index.js';
import { GenericUsbFnDriver } from '../lib/driver/genericusbfn/index.js';
import { buildStandin } from '../test/win32-standin/build.js';
import { childConfig, fmt, option, runChild, summarize, writeResult, type Summary } from './stream-stack.js';

interface Config {
  backend: 'direct' | 'koffi';
  /** koffi only: post completions from the stand-in's own thread (true) or the completing one. */
  completionThread?: boolean;
  size: number;
  outstanding: number;
  seconds: number;
  harvester?: HarvesterOptions;
  label?: string;
}
interface Sample { tps: number; mbps: number; cpuPerGB: number }

const BULK_OUT = 0x01;

async function openStack(c: Config): Promise<BackendStack> {
  if (c.harvester) configureHarvester(c.harvester);
  const standin = c.backend === 'koffi' ? (await import('../test/win32-standin/host.js')).Standin.load() : null;
  if (standin && !('skip' in standin)) standin.setCompletionThread(c.completionThread ?? false);
  const s = c.backend === 'koffi' ? await (await import('../test/win32-standin/backend.js')).standinBackend.create() : direct();
  await s.driver.activate();
  await s.host.enumerate({ speed: 'high' });
  while ((await s.driver.nextBusEvent()).type !== 'configured');
  return s;
}

/** GenericUsbFnDriver straight on the emulator (what test/backends.ts calls 'emulator'). */
function direct(): BackendStack {
  const device = new EmulatedGenericUsbFn();
  const driver = new GenericUsbFnDriver(device);
  return { driver, device, host: device.host, ioctlDevice: device, close: () => driver.close() };
}

/** Streams for `seconds`: the host sends 1 MiB blocks, the device keeps `outstanding` reads. */
async function stream(s: BackendStack, pipe: number, c: Config, seconds: number): Promise<{ transfers: number; bytes: number }> {
  let stop = false;
  let transfers = 0;
  let bytes = 0;
  const block = Buffer.alloc(Math.max(1 << 20, c.size), 0x5a);
  const host = (async () => {
    while (!stop) await s.host.bulkOut(BULK_OUT, block);
  })().catch(() => {});
  const reader = async () => {
    const buf = Buffer.allocUnsafeSlow(c.size);
    while (!stop) {
      const n = await s.driver.transferOut(pipe, buf); // not `bytes += await …`: that reads `bytes` before the await
      bytes += n;
      transfers++;
    }
  };
  const readers = Array.from({ length: c.outstanding }, reader);
  await new Promise((r) => setTimeout(r, seconds * 1000));
  stop = true;
  await Promise.all(readers); // the host finishes its block: every pending read completes
  void host;
  return { transfers, bytes };
}

async function child(c: Config): Promise<Sample> {
  const s = await openStack(c);
  const pipe = (await s.driver.getClassInfo()).high.pipes.find((p) => p.endpointAddress === BULK_OUT)!.pipeId;
  await stream(s, pipe, c, Math.min(0.5, c.seconds / 4)); // warm-up: JIT, pools
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const { transfers, bytes } = await stream(s, pipe, c, c.seconds);
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  await s.close();
  return { tps: transfers / elapsed, mbps: bytes / elapsed / 1e6, cpuPerGB: (cpu.user + cpu.system) / 1e6 / (bytes / 1e9) };
}

function configs(sweep: boolean, koffi: boolean, base: Omit<Config, 'backend' | 'size'>): Config[] {
  if (sweep) {
    const variants: [string, HarvesterOptions][] = [
      ['batch 1, block only', { batch: 1, timeoutMs: INFINITE, drain: false, poll: 0 }],
      ['batch 64, block only', { batch: 64, timeoutMs: INFINITE, drain: false, poll: 0 }],
      ['batch 64, block + drain', { batch: 64, timeoutMs: INFINITE, drain: true, poll: 0 }],
      ['batch 64, poll 1 turn', { batch: 64, timeoutMs: INFINITE, poll: 1 }],
      ['batch 64, poll 2 turns', { batch: 64, timeoutMs: INFINITE, poll: 2 }],
      ['batch 64, poll 4 turns', { batch: 64, timeoutMs: INFINITE, poll: 4 }],
      ['batch 16, poll 2 turns', { batch: 16, timeoutMs: INFINITE, poll: 2 }],
      ['batch 64, 10 ms, poll 2', { batch: 64, timeoutMs: 10, poll: 2 }],
    ];
    return [512, 16384].flatMap((size) => variants.map(([label, harvester]) => ({ ...base, backend: 'koffi' as const, size, harvester, label })));
  }
  const backends = koffi ? (['direct', 'koffi'] as const) : (['direct'] as const);
  return [512, 16384, 65536].flatMap((size) => backends.map((backend) => ({ ...base, backend, size })));
}

function main(): void {
  const runs = option('runs', 5);
  const base = { outstanding: option('outstanding', 8), seconds: option('seconds', 2), completionThread: process.argv.includes('--completion-thread') };
  const sweep = process.argv.includes('--sweep') && process.argv[process.argv.indexOf('--sweep') + 1] === 'harvester';
  const built = buildStandin();
  if (built.skip) console.log(`koffi path skipped: ${built.skip}`);
  const rows: { config: Config; tps: Summary; mbps: Summary; cpuPerGB: Summary }[] = [];
  for (const config of configs(sweep, !built.skip, base)) {
    const samples = Array.from({ length: runs }, () => runChild<Sample>(new URL(import.meta.url).pathname, config));
    const row = { config, tps: summarize(samples.map((x) => x.tps)), mbps: summarize(samples.map((x) => x.mbps)), cpuPerGB: summarize(samples.map((x) => x.cpuPerGB)) };
    rows.push(row);
    const name = (config.label ?? config.backend).padEnd(sweep ? 30 : 7);
    console.log(`${String(config.size).padStart(6)} B  ${name} ${fmt(row.tps).padStart(24)} transfers/s  ${fmt(row.mbps, 1).padStart(24)} MB/s  ${fmt(row.cpuPerGB, 2).padStart(20)} CPU s/GB`);
  }
  const file = writeResult(sweep ? 'koffi-harvester' : 'koffi-vs-direct', { runs, ...base, node: process.version, rows });
  const posting = base.completionThread ? 'posted by the stand-in\'s completion thread' : 'posted by the completing thread';
  console.log(`\n${runs} fresh processes per row, ${base.outstanding} outstanding, ${base.seconds} s each, completions ${posting}; median (min..max). JSON: ${file}`);
}

const config = childConfig<Config>();
if (config) {
  child(config).then((r) => console.log(JSON.stringify(r)), (err) => {
    console.error(err);
    process.exit(1);
  });
} else {
  main();
}
