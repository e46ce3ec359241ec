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
 * - Then the question-per-file sections (SECTIONS below, section.ts): link utilisation and the
 *   outstanding-request sweep on the emulator's link model (modelled time), the control round
 *   trip against bare IOCTLs, CPU per GB and RSS growth over 4 GiB, the koffi path against a raw
 *   koffi loop. Each prints its table; all go into benchmarks/results/sections-<time>.json, and
 *   the sweep's chart into benchmarks/results/outstanding-sweep-<time>.svg. With `--quick` their
 *   checks join the ratio floors; without, they are reported as goals met or missed.
 * - Without `--quick`, then the older question-per-file benchmarks (stream-throughput,
 *   stream-read-copy, koffi-vs-direct) through tsx, each printing its own table.
 *
 *   npm run bench [-- --quick] [-- --runs 3] [-- --sizes 512,65536] [-- --ops read,read-lend,write,echo] [-- --no-legacy]
 *                 [-- --sections link-utilisation,outstanding-sweep,...] [-- --no-transfers] [-- --turnaround 100]
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { childConfig, option, runChild, summarize, writeResult, type Summary } from './stream-stack.js';
import { NODE_ARGS, runTransferChild, type Kind, type Op, type TransferConfig, type TransferSample } from './transfers.js';
import { writeFileSync } from 'node:fs';
import { renderChart } from './chart.js';
import { controlRoundTrip } from './control-roundtrip.js';
import { koffiRawLoop } from './koffi-raw-loop.js';
import { linkUtilisation } from './link-utilisation.js';
import { outstandingSweep } from './outstanding-sweep.js';
import { rss4GiB } from './rss-4gib.js';
import type { Check, Section, SectionResult } from './section.js';

const SIZES = [512, 4096, 16384, 65536, 262144, 1048576];
const OPS: Op[] = ['read', 'read-lend', 'write', 'echo'];
/** Conservative floor on the usbfn/bare ratio (quick mode): only a gross regression fails. */
const RATIO_FLOOR = 0.2;
const LEGACY = ['stream-throughput.ts', 'stream-read-copy.ts', 'koffi-vs-direct.ts'];
const SECTIONS: Section[] = [linkUtilisation, outstandingSweep, controlRoundTrip, rss4GiB, koffiRawLoop];

const script = fileURLToPath(import.meta.url);
const here = path.dirname(script);
const builtAt = here.lastIndexOf(`${path.sep}results${path.sep}build${path.sep}`);
const sourceDir = builtAt >= 0 ? here.slice(0, builtAt) : here;

function listOption<T>(name: string, fallback: T[], parse: (s: string) => T): T[] {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1].split(',').map(parse) : fallback;
}

/**
 * Transfers per timed run: enough to dwarf start-up, small enough for a loaded 2-core machine.
 * The byte budget bounds ops that touch every byte (a copy); 'read-lend' touches none over the
 * instant device, so it gets the transfer count of the smallest size: at 64 KiB the byte-bound
 * count (32768, warm-up 8192) ended inside V8's tiering and read ~4 µs per lent read where
 * 100000 read ~1 µs, the steady state a long-running reader sees.
 */
function countFor(size: number, quick: boolean, op: Op): number {
  if (op === 'read-lend') size = 512;
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
      const config: TransferConfig = { op, kind, size, count: countFor(size, quick, op) };
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

async function parent(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const runs = option('runs', quick ? 1 : 3);
  const rows = process.argv.includes('--no-transfers') ? [] : transferTable(quick, runs);
  const checks = quick ? transferFloors(rows) : [];
  checks.push(...(await runSections(quick, runs)));
  if (quick) return report(checks);
  if (process.argv.includes('--no-legacy')) return;
  const legacyFailed = runLegacy(process.argv.slice(2).filter((a) => a !== '--no-legacy'));
  process.exit(legacyFailed ? 1 : 0);
}

function transferTable(quick: boolean, runs: number): Row[] {
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
  return rows;
}

/** Runs the sections picked by `--sections` (default all); prints each; writes their JSON and chart. Returns their checks. */
async function runSections(quick: boolean, runs: number): Promise<Check[]> {
  const names = listOption('sections', SECTIONS.map((s) => s.name), String);
  const results: Record<string, SectionResult> = {};
  for (const section of SECTIONS.filter((s) => names.includes(s.name))) {
    const result = await section.run({ quick, runs });
    results[section.name] = result;
    console.log(`\n=== ${result.title}`);
    for (const line of result.lines) console.log(line);
    if (!quick) for (const c of result.checks) console.log(`goal ${c.ok ? 'met   ' : 'MISSED'} ${c.name}: ${c.detail}`);
  }
  if (Object.keys(results).length === 0) return [];
  const file = writeResult('sections', { node: process.version, quick, runs, sections: results });
  console.log(`\nsections written to ${file}`);
  for (const [name, r] of Object.entries(results)) {
    if (!r.chart) continue;
    const svg = file.replace(/sections-([^/\\]+)\.json$/, `${name}-$1.svg`);
    writeFileSync(svg, renderChart(r.chart));
    console.log(`chart written to ${svg}`);
  }
  return Object.values(results).flatMap((r) => r.checks);
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

function transferFloors(rows: Row[]): Check[] {
  return rows.map((row) => ({ name: `${row.op} ${sizeLabel(row.size)}: usbfn/bare`, ok: row.ratio >= RATIO_FLOOR, detail: `${row.ratio.toFixed(2)} (floor ${RATIO_FLOOR})` }));
}

function report(checks: Check[]): void {
  const failed = checks.filter((c) => !c.ok).length;
  console.log('');
  for (const c of checks) console.log(`${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}`);
  console.log(`${checks.length - failed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

const config = childConfig<TransferConfig>();
if (config) console.log(JSON.stringify(await runTransferChild(config)));
else await parent();
