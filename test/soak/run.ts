/**
 * `npm run soak`: records streamed both ways through a BulkPipe while faults fire at random, on
 * every backend that runs here (the emulator direct, and koffi → C stand-in → emulator). Prints
 * what moved, the faults by kind, every loss counter, what was left after close, and memory;
 * ends with "N passed, N failed". A run is replayed (same fault choices) with the printed seed.
 *
 *   npm run soak -- [--quick] [--seed N] [--seconds S] [--bytes 10GiB] [--faults N] [--gap MS] [--backend emulator|koffi-standin] [--kinds reset,detach]
 */
import { backends } from '../backends.js';
import type { FaultKind } from '../../lib/driver/emulator/index.js';
import { soak, type SoakResult } from './session.js';

function parseBytes(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(k|m|g|t)?i?b?$/i.exec(text.trim());
  if (!m) throw new Error(`--bytes: cannot read ${text}`);
  const scale = { k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 }[(m[2] ?? '').toLowerCase() as 'k'] ?? 1;
  return Math.round(Number(m[1]) * scale);
}

const HELP = `npm run soak -- [options]
  --quick          the short version CI runs (12 s, 2 GiB per backend)
  --seed N         replay a run: the same fault choices and record sizes (printed at the start)
  --seconds S      stop after S seconds per backend, whatever else is unmet (default 600)
  --bytes SIZE     stop once SIZE moved both ways together, e.g. 10GiB (default 10GiB)
  --faults N       ...and only once at least N faults were injected too; a run that ends at
                   --seconds short of N fails (default 0: bytes alone)
  --gap MS         the fault rate: mean pause between one fault's recovery and the next fault
                   (default 25; faults run one at a time, each lasting up to ~75 ms)
  --backend NAME   emulator or koffi-standin (default both)
  --kinds a,b      the fault kinds to draw from (default: all of them)`;

function parseArgs(argv: string[]) {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(HELP);
    process.exit(0);
  }
  const arg = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const quick = argv.includes('--quick');
  return {
    seed: Number(arg('--seed') ?? (Date.now() ^ (process.pid << 16)) >>> 0) >>> 0,
    seconds: Number(arg('--seconds') ?? (quick ? 12 : 600)),
    bytes: parseBytes(arg('--bytes') ?? (quick ? '2GiB' : '10GiB')),
    meanFaultGapMs: Number(arg('--gap') ?? 25),
    minFaults: Number(arg('--faults') ?? 0),
    backend: arg('--backend'),
    kinds: arg('--kinds')?.split(',') as FaultKind[] | undefined,
    quick,
  };
}

const mib = (n: number) => (n / 2 ** 20).toFixed(1);

function verdict(r: SoakResult, unhandled: number, minFaults: number): string[] {
  const problems = [...r.unfinished];
  if (r.faultsTotal < minFaults) problems.push(`${r.faultsTotal} of the ${minFaults} faults asked for (--seconds ran out)`);
  for (const [side, t] of [['to host', r.toHost], ['to device', r.toDevice]] as const) {
    if (t.lost || t.duplicated || t.corrupt) problems.push(`${side}: ${t.lost} lost, ${t.duplicated} duplicated, ${t.corrupt} corrupt`);
    if (t.records !== t.sent) problems.push(`${side}: ${t.records} of ${t.sent} records arrived`);
  }
  if (unhandled) problems.push(`${unhandled} unhandled rejections`);
  for (const [what, n] of Object.entries(r.leftAfterClose)) if (n) problems.push(`${n} ${what} left after close`);
  if (r.toHost.records === 0 || r.toDevice.records === 0) problems.push('nothing moved');
  return problems;
}

function report(r: SoakResult, problems: string[], timersLeft: number): void {
  const faults = Object.entries(r.faults).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(', ');
  console.log(`\n[${r.backend}] ${r.seconds.toFixed(1)} s, ${mib(r.bytesMoved)} MiB moved (${mib(r.bytesMoved / r.seconds)} MiB/s)`);
  console.log(`  to host:   ${r.toHost.records}/${r.toHost.sent} records, lost ${r.toHost.lost}, duplicated ${r.toHost.duplicated}, corrupt ${r.toHost.corrupt}`);
  console.log(`  to device: ${r.toDevice.records}/${r.toDevice.sent} records, lost ${r.toDevice.lost}, duplicated ${r.toDevice.duplicated}, corrupt ${r.toDevice.corrupt}`);
  console.log(`  control requests: ${r.controlRequests}`);
  console.log(`  faults: ${r.faultsTotal} (${faults || 'none'})`);
  const left = r.leftAfterClose;
  console.log(`  left after close: pool buffers ${left.poolBuffers}, pending IOCTLs ${left.pendingIoctls}, pipe transfers ${left.pipeTransfers}, listeners ${left.listeners}, timers ${timersLeft}`);
  console.log(problems.length ? `  FAILED: ${problems.join('; ')}` : '  ok');
}

const timers = () => process.getActiveResourcesInfo().filter((k) => k === 'Timeout' || k === 'Immediate').length;
const memory = () => {
  const m = process.memoryUsage();
  return `RSS ${mib(m.rss)} MiB, heap ${mib(m.heapUsed)} MiB`;
};

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  let unhandled = 0;
  process.on('unhandledRejection', (reason) => {
    unhandled++;
    console.log(`unhandled rejection: ${String(reason)}`);
  });
  console.log(`soak seed ${options.seed}, ≤ ${options.seconds} s and ≤ ${mib(options.bytes)} MiB per backend, a fault every ~${options.meanFaultGapMs} ms`);
  const faultsArg = options.minFaults ? ` --faults ${options.minFaults}` : '';
  console.log(`replay: npm run soak -- --seed ${options.seed} --seconds ${options.seconds} --bytes ${options.bytes}${faultsArg} --gap ${options.meanFaultGapMs}`);
  console.log(`start: ${memory()}`);
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  for (const backend of backends) {
    if (options.backend && backend.name !== options.backend) continue;
    if (backend.skip) {
      console.log(`\n[${backend.name}] skipped: ${backend.skip}`);
      skipped++;
      continue;
    }
    const timersBefore = timers();
    const before = unhandled;
    const result = await soak(backend, options, (line) => console.log(`  ${line}`));
    await new Promise((r) => setTimeout(r, 50)); // let host timers of the last calls settle
    const timersLeft = Math.max(0, timers() - timersBefore);
    const problems = verdict(result, unhandled - before, options.minFaults);
    if (timersLeft) problems.push(`${timersLeft} timers left`);
    report(result, problems, timersLeft);
    if (problems.length) failed++;
    else passed++;
  }
  console.log(`\nend: ${memory()}`);
  console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
  process.exitCode = failed ? 1 : 0;
}

await main();
