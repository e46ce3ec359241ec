/**
 * Question: what does usbfn's koffi path add per transfer over its pure-JS path, when the native
 * transport under koffi completes at once, and how far is it from a raw koffi loop on that transport?
 *
 * The native transport is the C stand-in for kernel32 (test/win32-standin) with its interface on
 * the instant native transport (transport.c): every bulk TRANSFER_IN/OUT completes inside
 * NtDeviceIoControlFile, in C, with its whole buffer, and its packet is queued on the completion
 * port as Windows queues a synchronous success; no JS runs in the stand-in for it. 512 B transfers,
 * reads (host → device) and writes (device → host), fresh process per kind, op and run, alternating:
 * - 'raw': no usbfn code at run time, a synchronous loop of koffi calls: as many
 *   NtDeviceIoControlFile as the pipe keeps outstanding (4 reads, 8 writes), each with its own
 *   OVERLAPPED, then GetQueuedCompletionStatusEx (timeout 0) until all are dequeued, again and
 *   again: the ceiling of any JS over that transport.
 * - 'koffi': BulkPipe (defaults, readSize 512) → GenericUsbFnDriver → Win32IoctlDevice (koffi,
 *   the completion harvester) → the instant native transport.
 * - 'js': the same BulkPipe → GenericUsbFnDriver over a JS IoctlDevice that resolves every bulk
 *   transfer at once (the pure-JS path, as in transfers.ts).
 * Reported: CPU µs per transfer, transfers/s and (koffi, js) JS heap allocated per transfer in a
 * 2000-transfer window with no collection (as transfers.ts); koffi − js is what the koffi path
 * adds (issue 12 goal: ≤ 1 µs). Setup packets and bus events go to the emulator in every kind but 'raw'.
 * Skipped, with the reason, where the stand-in cannot be built (no C compiler).
 */
import { copyFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import koffi from 'koffi';
import { DEFAULT_INTERFACE_GUID } from '../lib/driver/emulator/index.js';
import type { IoctlDevice } from '../lib/driver/genericusbfn/ioctl-device.js';
import { Win32IoctlDevice } from '../lib/driver/genericusbfn/win32-device.js';
import { INVALID_HANDLE_VALUE, OVERLAPPED_ENTRY_LAYOUT, OVERLAPPED_LAYOUT, kernel32, ntdll } from '../lib/driver/genericusbfn/win32-ffi.js';
import { BulkPipe } from '../lib/stream/bulk-pipe.js';
import { BULK_PIPE_DEFAULTS } from '../lib/stream/bulk-pipe-options.js';
import { encodePipeId } from '../native-defs/codec-core.js';
import * as IOCTL from '../native-defs/ioctl.js';
import { FILE_FLAG_OVERLAPPED, FILE_SHARE_READ, FILE_SHARE_WRITE, GENERIC_READ, GENERIC_WRITE, OPEN_EXISTING, STATUS_PENDING } from '../native-defs/win32-api.js';
import { STANDIN_DIR, buildStandin } from '../test/win32-standin/build.js';
import { Standin } from '../test/win32-standin/host.js';
import { atMost, isMain, type Section, type SectionOptions, type SectionResult } from './section.js';
import { BULK_IN, BULK_OUT, childConfig, openBenchStack, runChild, summarize } from './stream-stack.js';
import { NODE_ARGS, drive, heapPerTransfer, instantTransfers } from './transfers.js';

type Kind = 'raw' | 'koffi' | 'js';
type Op = 'read' | 'write';
interface Config { kind: Kind; op: Op; count: number }
interface Sample { tps: number; cpuUs: number; heapBytes: number }

const SIZE = 512;
const KINDS: Kind[] = ['raw', 'koffi', 'js'];
const OPS: Op[] = ['read', 'write'];
/** In flight per op, as BulkPipe keeps them with its defaults: the raw loop matches it. */
const OUTSTANDING: Record<Op, number> = { read: BULK_PIPE_DEFAULTS.readsOutstanding, write: BULK_PIPE_DEFAULTS.writesInFlight };
/** --quick's gross-regression ceiling: koffi path CPU ÷ pure-JS path CPU per transfer (measured 1.3–1.6 on a loaded 2-vCPU VM). */
const QUICK_CEILING = 3;
/** Issue 12's goal (reported without --quick): µs per transfer the koffi path adds over the pure-JS path. */
const GOAL_US = 1;

/** The stand-in with one interface on the instant native transport, its other requests served by `handler`. */
function instantInterface(handler: Parameters<Standin['addInterface']>[2]): string {
  const loaded = Standin.load();
  if ('skip' in loaded) throw new Error(loaded.skip);
  const link = `\\\\?\\USBFN#GenericUsbFn#bench&${process.pid}#${DEFAULT_INTERFACE_GUID.toLowerCase()}`;
  loaded.setInstant(loaded.addInterface(DEFAULT_INTERFACE_GUID, link, handler), true, null);
  return link;
}

/**
 * A warmed-up configuration's timed run; it returns what follows the timing: the JS heap window
 * (bytes per transfer, NaN where not measured) and the teardown.
 */
type TimedRun = () => Promise<() => Promise<number>>;

/** The raw loop: koffi calls only, `outstanding` requests per round. */
async function rawLoop(op: Op, count: number): Promise<TimedRun> {
  const link = instantInterface({ ioctl: () => Promise.reject(new Error('the raw loop sends only bulk transfers')) });
  const k32 = kernel32();
  const nt = ntdll();
  const handle = k32.CreateFileW(link, (GENERIC_READ | GENERIC_WRITE) >>> 0, FILE_SHARE_READ | FILE_SHARE_WRITE, null, OPEN_EXISTING, FILE_FLAG_OVERLAPPED, null)!;
  const port = k32.CreateIoCompletionPort(INVALID_HANDLE_VALUE, null, 0, 0)!;
  k32.CreateIoCompletionPort(handle, port, 1, 0);
  const outstanding = OUTSTANDING[op];
  const overlapped = koffi.alloc('uint8_t', OVERLAPPED_LAYOUT.size * outstanding) as bigint;
  const addresses = Array.from({ length: outstanding }, (_, i) => overlapped + BigInt(i * OVERLAPPED_LAYOUT.size));
  const entries = koffi.alloc('uint8_t', OVERLAPPED_ENTRY_LAYOUT.size * outstanding) as bigint;
  const removed = koffi.alloc('uint32_t', 1) as bigint;
  const removedCount = new Uint32Array(koffi.view(removed, 4));
  const pipeId = encodePipeId(op === 'read' ? 2 : 1); // any pipe but the control pipe: the transport does not look further
  const buffers = addresses.map(() => Buffer.alloc(SIZE));
  const code = (op === 'read' ? IOCTL.IOCTL_GENERICUSBFN_TRANSFER_OUT : IOCTL.IOCTL_GENERICUSBFN_TRANSFER_IN) >>> 0;
  const run = (n: number) => {
    for (let done = 0; done < n; done += outstanding) {
      for (let i = 0; i < outstanding; i++) {
        const status = nt.NtDeviceIoControlFile(handle, null, null, addresses[i]!, addresses[i]!, code, pipeId, pipeId.length, buffers[i]!, SIZE);
        if (status !== 0 && status !== STATUS_PENDING) throw new Error(`NtDeviceIoControlFile: 0x${status.toString(16)}`);
      }
      for (let got = 0; got < outstanding; ) if (k32.GetQueuedCompletionStatusEx(port, entries, outstanding, removed, 0, 0)) got += removedCount[0]!;
    }
  };
  run(Math.ceil(count / 4));
  return async () => {
    run(count);
    return async () => {
      k32.CloseHandle(handle);
      k32.CloseHandle(port);
      koffi.free(overlapped);
      koffi.free(entries);
      koffi.free(removed);
      return NaN; // heap per transfer: not measured for a synchronous loop of koffi calls
    };
  };
}

/** BulkPipe → GenericUsbFnDriver over the koffi device or the pure-JS one. */
async function pipeLoop(kind: 'koffi' | 'js', op: Op, count: number): Promise<TimedRun> {
  const stack = await openBenchStack({
    transfers: (emulator: IoctlDevice) => (kind === 'js' ? instantTransfers(emulator) : Win32IoctlDevice.open(instantInterface(emulator))),
  });
  const pipe = new BulkPipe({ driver: stack.driver, link: stack.link, out: BULK_OUT, in: BULK_IN, zlp: 'never', readSize: SIZE });
  pipe.on('error', (err) => {
    console.error(err);
    process.exit(2);
  });
  await drive(pipe, op, SIZE, Math.ceil(count / 4));
  return async () => {
    await drive(pipe, op, SIZE, count);
    return async () => {
      const heapBytes = await heapPerTransfer(pipe, { op, kind: 'usbfn', size: SIZE, count }, Math.min(count, 2000));
      pipe.destroy();
      await stack.close();
      return heapBytes;
    };
  };
}

async function child(c: Config): Promise<Sample> {
  const timed = c.kind === 'raw' ? await rawLoop(c.op, c.count) : await pipeLoop(c.kind, c.op, c.count);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const after = await timed();
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { tps: c.count / seconds, cpuUs: (cpu.user + cpu.system) / c.count, heapBytes: await after() };
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
  const title = 'koffi path vs the pure-JS path and a raw koffi loop (512 B, instant native transport)';
  const skip = prepareStandin();
  if (skip) return { title, lines: [`skipped: ${skip}`], data: { skip }, checks: [] };
  const count = o.quick ? 50000 : 200000; // quick: still past the JIT's warm-up (a quarter of it runs untimed first)
  const samples: Record<Op, Record<Kind, Sample[]>> = { read: { raw: [], koffi: [], js: [] }, write: { raw: [], koffi: [], js: [] } };
  const script = fileURLToPath(import.meta.url);
  for (let r = 0; r < o.runs; r++) {
    for (const op of OPS) for (const kind of KINDS) samples[op][kind].push(runChild<Sample>(script, { kind, op, count }, NODE_ARGS));
  }
  const med = (op: Op, kind: Kind, key: keyof Sample) => {
    const values = samples[op][kind].map((s) => s[key]).filter(Number.isFinite); // heap: NaN when a collection ran
    return values.length ? summarize(values).median : NaN;
  };
  const heap = (op: Op, kind: Kind) => (Number.isFinite(med(op, kind, 'heapBytes')) ? med(op, kind, 'heapBytes').toFixed(0) : 'n/a').padStart(5);
  const added = (op: Op) => med(op, 'koffi', 'cpuUs') - med(op, 'js', 'cpuUs');
  const ratio = (op: Op) => med(op, 'koffi', 'cpuUs') / med(op, 'js', 'cpuUs');
  const lines = [
    `${count} transfers of ${SIZE} B per run (reads ${OUTSTANDING.read}, writes ${OUTSTANDING.write} in flight), ${o.runs} run(s) per kind (fresh processes, alternating); medians`,
    'op    | CPU µs/transfer: raw  koffi     js | transfers/s: raw    koffi       js | koffi − js  koffi ÷ js | heap B/transfer: koffi    js',
    ...OPS.map((op) => {
      const cpu = KINDS.map((k) => med(op, k, 'cpuUs').toFixed(2).padStart(6)).join(' ');
      const tps = KINDS.map((k) => `${(med(op, k, 'tps') / 1e3).toFixed(1)}k`.padStart(8)).join(' ');
      return `${op.padEnd(5)} | ${cpu.padStart(33)} | ${tps.padStart(34)} | ${added(op).toFixed(2).padStart(7)} µs ${ratio(op).toFixed(2).padStart(10)}× | ${heap(op, 'koffi').padStart(22)} ${heap(op, 'js')}`;
    }),
    'koffi − js: what Win32IoctlDevice, koffi and the harvester add per transfer over the pure-JS path (goal ≤ 1 µs); raw: the bare koffi calls alone.',
  ];
  return {
    title,
    lines,
    data: { size: SIZE, outstanding: OUTSTANDING, count, runs: o.runs, samples, addedOverJsUs: { read: added('read'), write: added('write') } },
    checks: OPS.map((op) => (o.quick
      ? atMost(`${op}s: koffi path CPU ÷ pure-JS path CPU per transfer`, ratio(op), QUICK_CEILING)
      : atMost(`${op}s: µs per transfer the koffi path adds over the pure-JS path`, added(op), GOAL_US))),
  };
}

export const koffiRawLoop: Section = { name: 'koffi-raw-loop', run };

const config = isMain(import.meta.url) ? childConfig<Config>() : null;
if (config) console.log(JSON.stringify(await child(config)));
