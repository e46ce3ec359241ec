/**
 * Question: how much of a high-speed and of a SuperSpeed link does a BulkPipe with default
 * settings keep busy, and how many transfers in flight does each link need?
 *
 * The emulator's link model (lib/driver/emulator/link-model.ts) keeps modelled bus time per pipe:
 * high speed 13 × 512 B per 125 µs microframe (53.248 MB/s payload), SuperSpeed 474.9 MB/s
 * (1072 symbols per 1024 B packet with SKP, 2 ns each), and a device that queues its next
 * transfer `--turnaround` µs (default 100) after each completion it reacts to. Reads (host →
 * device) and writes (device → host), one direction at a time, BulkPipe defaults (4 reads of
 * 256 KiB, 8 writes in flight); then the smallest readsOutstanding / writesInFlight reaching the
 * goal (≥ 99% high speed, ≥ 97% SuperSpeed) at 256 KiB and at 16 KiB transfers. Modelled time:
 * the same figures on any machine. `--quick` enforces the goals with the defaults.
 */
import { inFlightNeeded, runLink, type LinkOp, type LinkSpeed } from './link-run.js';
import { atLeast, type Check, type Section, type SectionOptions, type SectionResult } from './section.js';
import { MiB, option } from './stream-stack.js';

export const LINK_GOALS: Record<LinkSpeed, number> = { high: 0.99, super: 0.97 };
const DEFAULT_SIZE = 256 * 1024;
const pct = (x: number) => `${(x * 100).toFixed(2)}%`;

interface Row {
  speed: LinkSpeed;
  op: LinkOp;
  goal: number;
  defaults: { utilisation: number; payloadMBps: number };
  defaultsStalled: { utilisation: number; payloadMBps: number };
  neededAt256KiB?: number;
  neededAt16KiB?: number;
}

async function measure(speed: LinkSpeed, op: LinkOp, turnaroundUs: number, bytes: number): Promise<Row> {
  const base = { speed, op, turnaroundUs, bytes };
  const defaults = await runLink({ ...base, size: DEFAULT_SIZE });
  const defaultsStalled = await runLink({ ...base, size: DEFAULT_SIZE, turnaroundUs: 10 * turnaroundUs });
  return {
    speed, op, goal: LINK_GOALS[speed],
    defaults, defaultsStalled,
    neededAt256KiB: await inFlightNeeded({ ...base, size: DEFAULT_SIZE }, LINK_GOALS[speed]),
    neededAt16KiB: await inFlightNeeded({ ...base, size: 16 * 1024, bytes: bytes / 4 }, LINK_GOALS[speed]),
  };
}

async function run(o: SectionOptions): Promise<SectionResult> {
  const turnaroundUs = option('turnaround', 100);
  const bytes = (o.quick ? 16 : 64) * MiB;
  const rows: Row[] = [];
  for (const speed of ['high', 'super'] as LinkSpeed[]) for (const op of ['read', 'write'] as LinkOp[]) rows.push(await measure(speed, op, turnaroundUs, bytes));
  const lines = [
    `modelled device turnaround ${turnaroundUs} µs (and ×10, an event-loop stall); BulkPipe defaults: 4 × 256 KiB reads, 8 writes in flight`,
    'link    op     goal | defaults           | defaults, ×10 turnaround | in flight for goal: 256 KiB  16 KiB',
    ...rows.map((r) =>
      `${r.speed.padEnd(6)} ${r.op.padEnd(6)} ${pct(r.goal).padStart(6)} | ${pct(r.defaults.utilisation).padStart(7)} ${r.defaults.payloadMBps.toFixed(1).padStart(6)} MB/s | ${pct(r.defaultsStalled.utilisation).padStart(7)} ${r.defaultsStalled.payloadMBps.toFixed(1).padStart(6)} MB/s      |` +
      ` ${String(r.neededAt256KiB ?? '>32').padStart(27)} ${String(r.neededAt16KiB ?? '>32').padStart(7)}`),
  ];
  const checks: Check[] = rows.map((r) => atLeast(`${r.speed}-speed ${r.op}s with defaults use the link`, r.defaults.utilisation, r.goal, 4));
  return { title: 'Link utilisation (emulator link model, modelled time)', lines, data: { turnaroundUs, rows }, checks };
}

export const linkUtilisation: Section = { name: 'link-utilisation', run };
