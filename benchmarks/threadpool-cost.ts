/**
 * Question: what does the harvester's blocked call cost the rest of the process? It holds one
 * libuv threadpool thread while a device is open, so fs, dns, crypto, zlib and koffi async work
 * share the others. Workload: `--tasks` concurrent pool tasks that each block a pool thread for
 * `--ms` (a koffi async GetQueuedCompletionStatusEx with that timeout on an empty port of their
 * own: pure "one thread busy", no CPU), timed with no device open, then with one Win32 device
 * open on the stand-in (its harvester blocked). Each UV_THREADPOOL_SIZE runs in a fresh process.
 *
 *   npx tsx benchmarks/threadpool-cost.ts [--tasks 8] [--ms 50]
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import koffi from 'koffi';
import { INVALID_HANDLE_VALUE, OVERLAPPED_ENTRY_LAYOUT, kernel32 } from '../lib/driver/genericusbfn/win32-ffi.js';
import { Win32IoctlDevice } from '../lib/driver/genericusbfn/win32-device.js';
import { option } from './stream-stack.js';

async function blockedTasks(tasks: number, ms: number): Promise<number> {
  const k = kernel32();
  const port = k.CreateIoCompletionPort(INVALID_HANDLE_VALUE, null, 0, 0)!;
  const cells = Array.from({ length: tasks }, () => ({ e: koffi.alloc('uint8_t', OVERLAPPED_ENTRY_LAYOUT.size) as bigint, n: koffi.alloc('uint32_t', 1) as bigint }));
  const t0 = performance.now();
  await Promise.all(cells.map((c) => new Promise((resolve) => k.GetQueuedCompletionStatusEx.async(port, c.e, 1, c.n, ms, 0, resolve))));
  const elapsed = performance.now() - t0;
  k.CloseHandle(port);
  for (const c of cells) (koffi.free(c.e), koffi.free(c.n));
  return elapsed;
}

async function child(tasks: number, ms: number): Promise<void> {
  const { Standin } = await import('../test/win32-standin/host.js');
  const standin = Standin.load();
  if ('skip' in standin) throw new Error(standin.skip);
  const idle = await blockedTasks(tasks, ms);
  standin.addInterface('{6A0B3F4E-2C1D-4E5F-8A9B-0C1D2E3F4A5B}', 'threadpool-cost', { ioctl: () => new Promise<number>(() => {}) });
  const dev = Win32IoctlDevice.open('threadpool-cost');
  void dev.ioctl(0x0022c016, null, new Uint8Array(8)).catch(() => {});
  await new Promise((r) => setTimeout(r, 20)); // the harvester goes from polling to blocking
  const open = await blockedTasks(tasks, ms);
  console.log(JSON.stringify({ idle, open }));
  process.exit(0);
}

const tasks = option('tasks', 8);
const ms = option('ms', 50);
if (process.argv.includes('--child')) {
  await child(tasks, ms);
} else {
  for (const size of [1, 2, 4, 8]) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', '--tasks', String(tasks), '--ms', String(ms)],
      { encoding: 'utf8', env: { ...process.env, UV_THREADPOOL_SIZE: String(size) } });
    const { idle, open } = JSON.parse(r.stdout.trim().split('\n').pop()!) as { idle: number; open: number };
    console.log(`UV_THREADPOOL_SIZE=${size}: ${tasks} tasks of ${ms} ms: ${idle.toFixed(0)} ms with no device, ${open.toFixed(0)} ms with one open`);
  }
}
