/**
 * Question: how does throughput grow with the number of requests outstanding (1…32) when each
 * completion takes a modelled latency to be answered?
 *
 * BulkPipe reads (readsOutstanding = N) and writes (writesInFlight = N) of 16 KiB over the
 * emulator's link model (lib/driver/emulator/link-model.ts) at high speed and SuperSpeed, the
 * device answering each completion `--turnaround` µs (default 100) after it (the modelled
 * completion latency). Reported: modelled payload MB/s and its share of the link's ceiling.
 * With transfers of T µs on the wire, N in flight hide a latency up to (N − 1)·T, so the curve
 * rises as N·T/(T + latency) until it saturates; where usbfn's curve falls short of that, the
 * pipe is not keeping N transfers in flight. Modelled time: the same on any machine.
 */
import { runLink, type LinkOp, type LinkSpeed } from './link-run.js';
import { LINK_RATES } from '../lib/driver/emulator/index.js';
import { atLeast, type ChartSeries, type Section, type SectionOptions, type SectionResult } from './section.js';
import { MiB, option } from './stream-stack.js';

const SIZE = 16 * 1024;
const FULL_SWEEP = [1, 2, 3, 4, 6, 8, 12, 16, 24, 32];

interface Point {
  speed: LinkSpeed;
  op: LinkOp;
  inFlight: number;
  utilisation: number;
  payloadMBps: number;
  /** N·T/(T + latency), capped at 1: what N in flight give if each is answered on time. */
  ideal: number;
}

function ideal(speed: LinkSpeed, inFlight: number, turnaroundUs: number): number {
  const transferUs = (SIZE / LINK_RATES[speed].payloadBytesPerSecond) * 1e6;
  return Math.min(1, (inFlight * transferUs) / (transferUs + turnaroundUs));
}

async function run(o: SectionOptions): Promise<SectionResult> {
  const turnaroundUs = option('turnaround', 100);
  const sweep = o.quick ? [1, 4, 32] : FULL_SWEEP;
  const points: Point[] = [];
  for (const speed of ['high', 'super'] as LinkSpeed[]) {
    for (const op of ['read', 'write'] as LinkOp[]) {
      for (const inFlight of sweep) {
        const r = await runLink({ speed, op, size: SIZE, inFlight, turnaroundUs, bytes: (o.quick ? 2 : 8) * MiB });
        points.push({ speed, op, inFlight, utilisation: r.utilisation, payloadMBps: r.payloadMBps, ideal: ideal(speed, inFlight, turnaroundUs) });
      }
    }
  }
  const series = (['high', 'super'] as LinkSpeed[]).flatMap((speed) => (['read', 'write'] as LinkOp[]).map((op) => ({ speed, op })));
  const cell = (p: Point) => `${p.payloadMBps.toFixed(1).padStart(6)} ${(p.utilisation * 100).toFixed(1).padStart(5)}%`;
  const lines = [
    `16 KiB transfers, modelled completion latency ${turnaroundUs} µs; modelled MB/s and share of the link (ideal = N·T/(T + latency))`,
    `  N | ${series.map((s) => `${s.speed} ${s.op}`.padEnd(13)).join(' | ')} | ideal high  super`,
    ...sweep.map((n) => {
      const row = series.map((s) => cell(points.find((p) => p.speed === s.speed && p.op === s.op && p.inFlight === n)!));
      return `${String(n).padStart(3)} | ${row.join(' | ')} | ${(ideal('high', n, turnaroundUs) * 100).toFixed(1).padStart(9)}% ${(ideal('super', n, turnaroundUs) * 100).toFixed(1).padStart(5)}%`;
    }),
  ];
  // usbfn keeps its N transfers in flight: within 2% of the ideal curve (modelled, so exact on any machine)
  const checks = points.map((p) => atLeast(`${p.speed} ${p.op} with ${p.inFlight} in flight reaches the ideal curve`, p.utilisation / p.ideal, 0.98, 3));
  const chartSeries: ChartSeries[] = series.map((s) => ({
    label: `${s.speed === 'high' ? 'high speed' : 'SuperSpeed'} ${s.op}s`,
    points: points.filter((p) => p.speed === s.speed && p.op === s.op).map((p) => [p.inFlight, p.utilisation * 100] as [number, number]),
  }));
  return {
    title: 'Outstanding-request sweep (emulator link model, modelled time)',
    lines,
    data: { size: SIZE, turnaroundUs, points },
    checks,
    chart: { title: `Link utilisation vs transfers in flight (16 KiB, ${turnaroundUs} µs modelled latency)`, x: 'transfers in flight', y: '% of link payload ceiling', series: chartSeries },
  };
}

export const outstandingSweep: Section = { name: 'outstanding-sweep', run };
