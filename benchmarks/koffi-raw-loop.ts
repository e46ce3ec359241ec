/**
 * Question: what does usbfn's koffi path add per transfer, beside a raw koffi loop over the same
 * native transport and beside usbfn's pure-JS path?
 *
 * The native transport is the C stand-in for kernel32 (test/win32-standin) with a handler that
 * completes every TRANSFER_OUT at once, inside dispatch (its JS forward callback is included in
 * every koffi figure; Windows has none). Three kinds, fresh process each, alternating:
 * - 'raw': no usbfn code at run time, a synchronous loop of koffi calls: 8 NtDeviceIoControlFile
 *   with their own OVERLAPPEDs, then GetQueuedCompletionStatusEx (timeout 0) until all 8 packets
 *   are dequeued, again and again: the ceiling of any JS over that transport.
 * - 'koffi': GenericUsbFnDriver → Win32IoctlDevice (koffi, the completion harvester) → stand-in,
 *   8 driver.transferOut() outstanding.
 * - 'js': GenericUsbFnDriver over a JS IoctlDevice completing every transfer at once (the
 *   pure-JS path), 8 outstanding.
 * Reported: CPU µs per 512 B transfer and transfers/s. koffi − js is what the koffi path costs
 * over the pure-JS one, but it includes the stand-in's JS forwarding (a koffi callback, two
 * koffi.view and a cancel signal per request), which Windows does not have; koffi − raw cancels
 * that out: what usbfn's driver, Win32IoctlDevice and the harvester add over the bare loop on the
 * same transport (goal ≤ 1 µs).
 * Skipped, with the reason, where the stand-in cannot be built (no C compiler).
 */
import { copyFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import koffi from 'koffi';
import { EmulatedGenericUsbFn, DEFAULT_INTERFACE_GUID } from '../lib/driver/emulator/index.js';
import { GenericUsbFnDriver } from '../lib/driver/genericusbfn/index.js';
import type { IoctlDevice } from '../lib/driver/genericusbfn/ioctl-device.js';
import { Win32IoctlDevice } from '../lib/driver/genericusbfn/win32-device.js';
import { INVALID_HANDLE_VALUE, OVERLAPPED_ENTRY_LAYOUT, OVERLAPPED_LAYOUT, kernel32, ntdll } from '../lib/driver/genericusbfn/win32-ffi.js';
import { encodePipeId } from '../native-defs/codec-core.js';
import * as IOCTL from '../native-defs/ioctl.js';
import { FILE_FLAG_OVERLAPPED, FILE_SHARE_READ, FILE_SHARE_WRITE, GENERIC_READ, GENERIC_WRITE, OPEN_EXISTING, STATUS_PENDING } from '../native-defs/win32-api.js';
import { STANDIN_DIR, buildStandin } from '../test/win32-standin/build.js';
import { atMost, isMain, type Section, type SectionOptions, type SectionResult } from './section.js';
import { childConfig, runChild, summarize } from './stream-stack.js';

type Kind = 'raw' | 'koffi' | 'js';
interface Config { kind: Kind; count: number }
interface Sample { tps: number; cpuUs: number }

const SIZE = 512;
const OUTSTANDING = 8;
const TRANSFER_CODES = new Set([IOCTL.IOCTL_GENERICUSBFN_TRANSFER_IN, IOCTL.IOCTL_GENERICUSBFN_TRANSFER_IN_APPEND_ZERO_PKT, IOCTL.IOCTL_GENERICUSBFN_TRANSFER_OUT].map((c) => c >>> 0));
/** Gross-regression ceiling for --quick: koffi path CPU ÷ raw loop CPU per transfer (both pay the stand-in's forwarding). */
const QUICK_CEILING = 3;
/** The goal (reported without --quick): µs per transfer the koffi path adds over the raw loop on the same transport. */
const GOAL_US = 1;

/** Every bulk transfer completes at once with its full length; everything else goes to the emulator. */
function instant(emulator: EmulatedGenericUsbFn, sync: boolean): IoctlDevice & { ioctl: (...a: Parameters<IoctlDevice['ioctl']>) => Promise<number> | number } {
  return {
    ioctl: (code, input, output, signal) => {
      if (!TRANSFER_CODES.has(code >>> 0)) return emulator.ioctl(code, input, output, signal);
      return sync ? (output?.length ?? 0) : Promise.resolve(output?.length ?? 0);
    },
    close: () => emulator.close(),
  } as IoctlDevice;
}

/** The stand-in with one device interface served by `handler`; null (with the reason printed by the parent) when unavailable. */
async function standinInterface(handler: Parameters<import('../test/win32-standin/host.js').Standin['addInterface']>[2]): Promise<{ link: string; remove: () => void }> {
  const loaded = (await import('../test/win32-standin/host.js')).Standin.load();
  if ('skip' in loaded) throw new Error(loaded.skip);
  loaded.setCompletionThread(false); // the completing thread posts the packet, as an IRP completion does on Windows
  const link = `\\\\?\\USBFN#GenericUsbFn#bench&${process.pid}#${DEFAULT_INTERFACE_GUID.toLowerCase()}`;
  const id = loaded.addInterface(DEFAULT_INTERFACE_GUID, link, handler);
  return { link, remove: () => loaded.removeInterface(id) };
}

/** The raw loop: koffi calls only. */
async function rawLoop(count: number): Promise<() => void> {
  const { link, remove } = await standinInterface({ ioctl: (_code, _input, output) => output?.length ?? 0 });
  const k32 = kernel32();
  const nt = ntdll();
  const handle = k32.CreateFileW(link, (GENERIC_READ | GENERIC_WRITE) >>> 0, FILE_SHARE_READ | FILE_SHARE_WRITE, null, OPEN_EXISTING, FILE_FLAG_OVERLAPPED, null)!;
  const port = k32.CreateIoCompletionPort(INVALID_HANDLE_VALUE, null, 0, 0)!;
  k32.CreateIoCompletionPort(handle, port, 1, 0);
  const overlapped = koffi.alloc('uint8_t', OVERLAPPED_LAYOUT.size * OUTSTANDING) as bigint;
  const addresses = Array.from({ length: OUTSTANDING }, (_, i) => overlapped + BigInt(i * OVERLAPPED_LAYOUT.size));
  const entries = koffi.alloc('uint8_t', OVERLAPPED_ENTRY_LAYOUT.size * OUTSTANDING) as bigint;
  const removed = koffi.alloc('uint32_t', 1) as bigint;
  const removedCount = new Uint32Array(koffi.view(removed, 4));
  const pipeId = encodePipeId(2);
  const buffer = Buffer.alloc(SIZE);
  const code = IOCTL.IOCTL_GENERICUSBFN_TRANSFER_OUT >>> 0;
  const run = (n: number) => {
    for (let done = 0; done < n; ) {
      for (const address of addresses) {
        const status = nt.NtDeviceIoControlFile(handle, null, null, address, address, code, pipeId, pipeId.length, buffer, SIZE);
        if (status !== 0 && status !== STATUS_PENDING) throw new Error(`NtDeviceIoControlFile: 0x${status.toString(16)}`);
      }
      for (let got = 0; got < OUTSTANDING; ) if (k32.GetQueuedCompletionStatusEx(port, entries, OUTSTANDING, removed, 0, 0)) got += removedCount[0]!;
      done += OUTSTANDING;
    }
  };
  run(Math.ceil(count / 4));
  return () => {
    run(count);
    k32.CloseHandle(handle);
    k32.CloseHandle(port);
    koffi.free(overlapped);
    koffi.free(entries);
    koffi.free(removed);
    remove();
  };
}

/** usbfn's driver over `device`, configured, with 8 transferOut() loops. */
async function driverLoop(kind: 'koffi' | 'js', count: number): Promise<() => Promise<void>> {
  const emulator = new EmulatedGenericUsbFn();
  const standin = kind === 'koffi' ? await standinInterface(instant(emulator, true)) : null;
  const driver = new GenericUsbFnDriver(standin ? Win32IoctlDevice.open(standin.link) : instant(emulator, false));
  await driver.activate();
  await emulator.host.enumerate({ speed: 'high', waitForDevice: false });
  while ((await driver.nextBusEvent()).type !== 'configured');
  const pipe = (await driver.getClassInfo()).high.pipes.find((p) => p.endpointAddress === 0x01)!.pipeId;
  const run = async (n: number) => {
    let issued = 0;
    const loop = async () => {
      const buffer = Buffer.alloc(SIZE);
      while (issued++ < n) await driver.transferOut(pipe, buffer);
    };
    await Promise.all(Array.from({ length: OUTSTANDING }, loop));
  };
  await run(Math.ceil(count / 4));
  return async () => {
    await run(count);
    await driver.close();
    await emulator.close();
    standin?.remove();
  };
}

async function child(c: Config): Promise<Sample> {
  const timed = c.kind === 'raw' ? await rawLoop(c.count) : await driverLoop(c.kind, c.count);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await timed(); // the timed run, then the (cheap) teardown
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { tps: c.count / seconds, cpuUs: (cpu.user + cpu.system) / c.count };
}

/** The built copy of the stand-in (benchmarks/results/build/test/win32-standin) compiles its library from copies of the C sources. */
function prepareStandin(): string | undefined {
  const built = STANDIN_DIR.lastIndexOf(`${path.sep}benchmarks${path.sep}results${path.sep}build${path.sep}`);
  if (built >= 0) {
    const source = path.join(STANDIN_DIR.slice(0, built), 'test', 'win32-standin');
    for (const f of readdirSync(source).filter((n) => /\.[ch]$/.test(n))) copyFileSync(path.join(source, f), path.join(STANDIN_DIR, f));
  }
  return buildStandin().skip;
}

async function run(o: SectionOptions): Promise<SectionResult> {
  const title = 'koffi path vs a raw koffi loop and the pure-JS path (512 B, instant native transport)';
  const skip = prepareStandin();
  if (skip) return { title, lines: [`skipped: ${skip}`], data: { skip }, checks: [] };
  const count = o.quick ? 5000 : 200000;
  const samples: Record<Kind, Sample[]> = { raw: [], koffi: [], js: [] };
  const script = fileURLToPath(import.meta.url);
  for (let r = 0; r < o.runs; r++) for (const kind of ['raw', 'koffi', 'js'] as Kind[]) samples[kind].push(runChild<Sample>(script, { kind, count }));
  const med = (kind: Kind, key: keyof Sample) => summarize(samples[kind].map((s) => s[key])).median;
  const added = med('koffi', 'cpuUs') - med('js', 'cpuUs');
  const lines = [
    `${count} transfers of ${SIZE} B per run, ${OUTSTANDING} outstanding, ${o.runs} run(s) per kind (fresh processes, alternating); medians`,
    'kind  | CPU µs/transfer | transfers/s',
    ...(['raw', 'koffi', 'js'] as Kind[]).map((kind) => `${kind.padEnd(5)} | ${med(kind, 'cpuUs').toFixed(2).padStart(15)} | ${(med(kind, 'tps') / 1e3).toFixed(1).padStart(9)}k`),
    `koffi − js = ${added.toFixed(2)} µs per transfer (goal ≤ 1; includes the stand-in's JS forwarding, which the raw loop pays too); koffi − raw = ${(med('koffi', 'cpuUs') - med('raw', 'cpuUs')).toFixed(2)} µs, koffi ÷ raw = ${(med('koffi', 'cpuUs') / med('raw', 'cpuUs')).toFixed(2)}×`,
  ];
  return {
    title,
    lines,
    data: { size: SIZE, outstanding: OUTSTANDING, count, runs: o.runs, samples, addedOverJsUs: added, addedOverRawUs: med('koffi', 'cpuUs') - med('raw', 'cpuUs') },
    checks: [o.quick
      ? atMost('koffi path CPU ÷ raw koffi loop CPU per transfer', med('koffi', 'cpuUs') / med('raw', 'cpuUs'), QUICK_CEILING)
      : atMost('µs per transfer the koffi path adds over the raw koffi loop', med('koffi', 'cpuUs') - med('raw', 'cpuUs'), GOAL_US)],
  };
}

export const koffiRawLoop: Section = { name: 'koffi-raw-loop', run };

const config = isMain(import.meta.url) ? childConfig<Config>() : null;
if (config) console.log(JSON.stringify(await child(config)));
