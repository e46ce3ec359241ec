/**
 * The stack the stream benchmarks run on: the emulator, GenericUsbFnDriver over it, a BusLink
 * fed by a bus-event pump (what the device facade does), enumerated at high speed. Plus the
 * fresh-process runner every stream benchmark uses (performance-notes.md, pitfall 9: JIT state
 * made shared-process runs 2–3× slower) and small statistics helpers.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BusLink } from '../lib/bus-link.js';
import { EmulatedGenericUsbFn, type EmulatorOptions } from '../lib/driver/emulator/index.js';
import type { BusSpeed } from '../lib/driver/driver.js';
import { GenericUsbFnDriver } from '../lib/driver/genericusbfn/index.js';
import type { IoctlDevice } from '../lib/driver/genericusbfn/ioctl-device.js';

export const BULK_IN = 0x81;
export const BULK_OUT = 0x01;
export const MiB = 1 << 20;

export interface BenchStack {
  device: EmulatedGenericUsbFn;
  driver: GenericUsbFnDriver;
  link: BusLink;
  close(): Promise<void>;
}

/**
 * A configured device (at high speed unless `speed` says otherwise) with its link following the
 * bus. `transfers` may wrap the emulator's IoctlDevice (benchmarks/transfers.ts completes bulk
 * transfers instantly); `emulator` configures the emulator (e.g. its link model).
 */
export async function openBenchStack(options: { transfers?: (inner: IoctlDevice) => IoctlDevice; emulator?: EmulatorOptions; speed?: BusSpeed } = {}): Promise<BenchStack> {
  const device = new EmulatedGenericUsbFn(options.emulator);
  const driver = new GenericUsbFnDriver(options.transfers ? options.transfers(device) : device);
  await driver.activate();
  const link = new BusLink(await driver.getClassInfo());
  const pump = (async () => {
    for (;;) {
      try {
        link.handle(await driver.nextBusEvent());
      } catch {
        return;
      }
    }
  })();
  await device.host.enumerate({ speed: options.speed ?? 'high' });
  await link.whenConfigured();
  return {
    device,
    driver,
    link,
    async close() {
      link.close();
      await driver.close();
      await pump;
    },
  };
}

/** Host side of an echo: sends `total` bytes in 4 MiB transfers while reading them back in 1 MiB reads. */
export async function hostEcho(stack: BenchStack, total: number): Promise<void> {
  const host = stack.device.host;
  const block = Buffer.alloc(4 * MiB, 0x5a);
  const into = Buffer.allocUnsafe(MiB);
  const send = async () => {
    for (let sent = 0; sent < total; sent += block.length) await host.bulkOut(BULK_OUT, block.subarray(0, Math.min(block.length, total - sent)));
  };
  const receive = async () => {
    for (let got = 0; got < total; ) got += (await host.bulkIn(BULK_IN, MiB, { into })).length;
  };
  await Promise.all([send(), receive()]);
}

/** Runs `fn` once to warm up on `warm` bytes, then measures it on `total` bytes: MB/s and CPU seconds per GB. */
export async function measure(total: number, warm: number, fn: (bytes: number) => Promise<void>): Promise<{ mbps: number; cpuPerGB: number }> {
  await fn(warm);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await fn(total);
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { mbps: total / seconds / 1e6, cpuPerGB: (cpu.user + cpu.system) / 1e6 / (total / 1e9) };
}

export interface Summary {
  median: number;
  min: number;
  max: number;
  runs: number[];
}

export function summarize(values: number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median, min: sorted[0], max: sorted[sorted.length - 1], runs: values };
}

export const fmt = (s: Summary, digits = 0) => `${s.median.toFixed(digits)} (${s.min.toFixed(digits)}..${s.max.toFixed(digits)})`;

/**
 * Runs `script --child <json>` in a fresh Node process and parses the JSON line it prints last.
 * A .ts script runs through tsx; a .js one (the built benchmarks) on plain node with `nodeArgs`.
 */
export function runChild<T>(script: string, config: object, nodeArgs: string[] = []): T {
  const loader = script.endsWith('.ts') ? ['--import', 'tsx'] : [];
  const result = spawnSync(process.execPath, [...loader, ...nodeArgs, script, '--child', JSON.stringify(config)], { encoding: 'utf8', maxBuffer: 16 * MiB });
  if (result.status !== 0) throw new Error(`child failed (${result.status}): ${result.stderr}`);
  const line = result.stdout.trim().split('\n').pop()!;
  return JSON.parse(line) as T;
}

/** The child's configuration when this process is a child, else null. */
export function childConfig<T>(): T | null {
  const i = process.argv.indexOf('--child');
  return i >= 0 ? (JSON.parse(process.argv[i + 1]) as T) : null;
}

/** A numeric command-line option `--name value`, or the fallback. */
export function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

/** Writes `data` as benchmarks/results/<name>-<timestamp>.json (gitignored); returns the path. */
export function writeResult(name: string, data: object): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  // The built copy runs from benchmarks/results/build/benchmarks/: results still go to benchmarks/results/.
  const built = here.lastIndexOf(`${path.sep}results${path.sep}build${path.sep}`);
  const dir = built >= 0 ? here.slice(0, built + '/results'.length) : path.join(here, 'results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(data, null, 2));
  return file;
}
