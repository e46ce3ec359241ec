/**
 * `npm run bench`: builds the benchmarks with tsc (tsconfig.bench.json, into the gitignored
 * benchmarks/results/build/) and runs this file's built copy, so figures are those of the shipped
 * JavaScript (tsx inflated them 1.25–2.1×).
 *
 * - The transfer table (transfers.ts): reads, writes and echo at 512 B … 1 MiB, usbfn beside a
 *   bare readable-stream Duplex measured in the same run, fresh process per cell and run;
 *   transfers/s, CPU µs per transfer, CPU s per GB, JS heap bytes per transfer. Written as JSON
 *   to benchmarks/results/transfers-<time>.json.
 * - `--quick` (CI, .ci/suites): 512 B and 64 KiB only, one run, then conservative floors on the
 *   usbfn/bare ratio that only a gross regression breaks; prints `N passed, N failed` and exits
 *   non-zero on a failed floor.
 * - Without `--quick`, then the older question-per-file benchmarks (stream-throughput,
 *   stream-read-copy, koffi-vs-direct) through tsx, each printing its own table.
 *
 *   npm run bench [-- --quick] [-- --runs 3] [-- --sizes 512,65536] [-- --ops read,read-lend,write,echo] [-- --no-legacy]
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { childConfig, option, runChild, summarize, writeResult, type Summary } from './stream-stack.js';
import { NODE_ARGS, runTransferChild, type Kind, type Op, type TransferConfig, type TransferSample } from './transfers.js';

const SIZES = [512, 4096, 16384, 65536, 262144, 1048576];
const OPS: Op[] = ['read', 'read-lend', 'write', 'echo'];
/** Conservative floor on the usbfn/bare ratio (quick mode): only a gross regression fails. */
const RATIO_FLOOR = 0.2;
const LEGACY = ['stream-throughput.ts', 'stream-read-copy.ts', 'koffi-vs-direct.ts'];

const script = fileURLToPath(import.meta.url);
const here = path.dirname(script);
const builtAt = here.lastIndexOf(`${path.sep}results${path.sep}build${path.sep}`);
const sourceDir = builtAt >= 0 ? here.slice(0, builtAt) : here;

function listOption<T>(name: string, fallback: T[], parse: (s: string) => T): T[] {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1].split(',').map(parse) : fallback;
}

/** Transfers per timed run: enough to dwarf start-up, small enough for a loaded 2-core machine. */
function countFor(size: number, quick: boolean): number {
  const bytes = quick ? 256 * 2 ** 20 : 2 ** 31;
  return Math.max(quick ? 300 : 1000, Math.min(quick ? 20000 : 100000, Math.floor(bytes / size)));
}

interface Row {
  op: Op;
  size: number;
  usbfn: Record<keyof TransferSample, Summary>;
  bare: Record<keyof TransferSample, Summary>;
  /** bare CPU per transfer / usbfn CPU per transfer: the transfers/s ratio when each has a core to itself. */
  ratio: number;
  /** usbfn/bare wall-clock transfers/s: only meaningful on an idle machine. */
  wallRatio: number;
}

function summarizeSamples(samples: TransferSample[]): Record<keyof TransferSample, Summary> {
  const keys: Array<keyof TransferSample> = ['tps', 'cpuUsPerTransfer', 'cpuSPerGB', 'heapBytesPerTransfer'];
  return Object.fromEntries(keys.map((k) => [k, summarize(samples.map((s) => s[k]).filter((v) => typeof v === "number" && Number.isFinite(v)))])) as Record<keyof TransferSample, Summary>;
}

const k = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : `${(n / 1e3).toFixed(1)}k`);
const range = (s: Summary) => `${k(s.median)} (${k(s.min)}..${k(s.max)})`;
const num = (s: Summary, digits: number) => (s.runs.length ? s.median.toFixed(digits) : 'n/a');
const sizeLabel = (size: number) => (size >= 1024 ? `${size / 1024} KiB` : `${size} B`);

function measureCell(op: Op, size: number, runs: number, quick: boolean): Row {
  const samples: Record<Kind, TransferSample[]> = { usbfn: [], bare: [] };
  for (let r = 0; r < runs; r++) {
    for (const kind of ['usbfn', 'bare'] as Kind[]) {
      const config: TransferConfig = { op, kind, size, count: countFor(size, quick) };
      samples[kind].push(runChild<TransferSample>(script, config, NODE_ARGS));
    }
  }
  const usbfn = summarizeSamples(samples.usbfn);
  const bare = summarizeSamples(samples.bare);
  return { op, size, usbfn, bare, ratio: bare.cpuUsPerTransfer.median / usbfn.cpuUsPerTransfer.median, wallRatio: usbfn.tps.median / bare.tps.median };
}

function printRow(row: Row): void {
  const u = row.usbfn;
  const b = row.bare;
  console.log(
    `${row.op.padEnd(9)} ${sizeLabel(row.size).padStart(8)} | ${range(u.tps).padEnd(26)} | ${range(b.tps).padEnd(26)} | ${row.ratio.toFixed(2).padStart(5)} ${row.wallRatio.toFixed(2).padStart(5)}` +
      ` | ${num(u.cpuUsPerTransfer, 2).padStart(7)} ${num(b.cpuUsPerTransfer, 2).padStart(7)} | ${num(u.cpuSPerGB, 2).padStart(7)} ${num(b.cpuSPerGB, 2).padStart(7)}` +
      ` | ${num(u.heapBytesPerTransfer, 0).padStart(6)} ${num(b.heapBytesPerTransfer, 0).padStart(6)}`,
  );
}

function runLegacy(extra: string[]): number {
  let failed = 0;
  for (const file of LEGACY) {
    console.log(`\n=== ${file} ${extra.join(' ')} (through tsx: compare its ratios, not its absolute figures)`);
    const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(sourceDir, file), ...extra], { stdio: 'inherit' });
    if (r.status !== 0) {
      failed++;
      console.log(`${file} exited with ${r.status ?? r.signal}`);
    }
  }
  return failed;
}

function parent(): void {
  const quick = process.argv.includes('--quick');
  const runs = option('runs', quick ? 1 : 3);
  const sizes = listOption('sizes', quick ? [512, 65536] : SIZES, Number);
  const ops = listOption<Op>('ops', quick ? OPS.filter((o) => o !== 'read-lend') : OPS, (s) => s as Op);
  console.log(`usbfn (BulkPipe → GenericUsbFnDriver → instant IoctlDevice) vs a bare readable-stream Duplex; built JS, node ${process.version}`);
  console.log(`${runs} run(s) per cell, each kind in a fresh process; median (min..max). Transfers are CPU-bound, so`);
  console.log('ratio = bare CPU/transfer ÷ usbfn CPU/transfer (= usbfn/bare transfers/s, each on an idle core: a loaded');
  console.log("machine's wall-clock figures are scheduling noise); wall = the wall-clock transfers/s ratio.");
  console.log('op            size | usbfn transfers/s          | bare transfers/s           | ratio  wall | CPU µs/transfer | CPU s/GB        | heap B/transfer');
  console.log('                   |                            |                            |             |   usbfn    bare |   usbfn    bare |  usbfn   bare');
  const rows: Row[] = [];
  for (const op of ops) {
    for (const size of sizes) {
      const row = measureCell(op, size, runs, quick);
      rows.push(row);
      printRow(row);
    }
  }
  printLendGain(rows);
  console.log(`\nwritten to ${writeResult('transfers', { node: process.version, quick, runs, rows })}`);
  if (quick) return checkFloors(rows);
  if (process.argv.includes('--no-legacy')) return;
  const legacyFailed = runLegacy(process.argv.slice(2).filter((a) => a !== '--no-legacy'));
  process.exit(legacyFailed ? 1 : 0);
}

/** Issue 12's zero-copy goal: 'lend' reads ≥ 5× the transfers/s of 'copy' reads (by CPU per transfer) at 64 KiB and up. */
function printLendGain(rows: Row[]): void {
  for (const lend of rows.filter((r) => r.op === 'read-lend')) {
    const copy = rows.find((r) => r.op === 'read' && r.size === lend.size);
    if (!copy) continue;
    const gain = copy.usbfn.cpuUsPerTransfer.median / lend.usbfn.cpuUsPerTransfer.median;
    console.log(`zero-copy gain at ${sizeLabel(lend.size)}: 'lend' reads ${gain.toFixed(2)}× the transfers per CPU second of 'copy' reads`);
  }
}

function checkFloors(rows: Row[]): void {
  let passed = 0;
  let failed = 0;
  for (const row of rows) {
    const ok = row.ratio >= RATIO_FLOOR;
    if (ok) passed++;
    else failed++;
    console.log(`${ok ? 'ok  ' : 'FAIL'} ${row.op} ${sizeLabel(row.size)}: usbfn/bare ${row.ratio.toFixed(2)} (floor ${RATIO_FLOOR})`);
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

const config = childConfig<TransferConfig>();
if (config) console.log(JSON.stringify(await runTransferChild(config)));
else parent();
