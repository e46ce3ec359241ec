/**
 * What each question-per-file benchmark registered in run.ts hands back: the lines of its table,
 * its figures for the JSON, the checks `--quick` enforces (conservative floors that only a gross
 * regression or a broken behaviour breaks; never a wall-clock bound) and, optionally, a series
 * for the chart.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

export interface ChartSeries {
  label: string;
  points: Array<[number, number]>;
}

export interface SectionResult {
  title: string;
  lines: string[];
  data: object;
  checks: Check[];
  chart?: { title: string; x: string; y: string; series: ChartSeries[] };
}

export interface SectionOptions {
  quick: boolean;
  /** Fresh processes per configuration, alternating between the configurations compared. */
  runs: number;
}

/** One benchmark question, as run.ts runs it. */
export interface Section {
  name: string;
  run(options: SectionOptions): Promise<SectionResult>;
}

/** True when the module at `url` is the script node was started with (so a benchmark file may also be a child process). */
export function isMain(url: string): boolean {
  return process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(url);
}

/** p-th percentile (0..100) of `values`, nearest rank. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** A floor check: ok when `value` ≥ `floor`. */
export function atLeast(name: string, value: number, floor: number, digits = 2): Check {
  return { name, ok: value >= floor, detail: `${value.toFixed(digits)} (floor ${floor})` };
}

/** A ceiling check: ok when `value` ≤ `ceiling`. */
export function atMost(name: string, value: number, ceiling: number, digits = 2): Check {
  return { name, ok: value <= ceiling, detail: `${value.toFixed(digits)} (ceiling ${ceiling})` };
}
