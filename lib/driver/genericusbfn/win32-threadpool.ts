/**
 * The one cost the completion harvester puts on the rest of the process: it holds a thread of
 * libuv's threadpool while a Win32 device is open (win32-completion.ts). This says so where
 * that thread is the pool's only one.
 */
import createDebug from 'debug';

const debug = createDebug('usbfn:win32');
let threadpoolWarned = false;

/**
 * libuv's threadpool size as libuv reads it (UV_THREADPOOL_SIZE at first use: default 4, below 1
 * taken as 1, above 1024 as 1024).
 */
export function libuvThreadpoolSize(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number.parseInt(env.UV_THREADPOOL_SIZE ?? '', 10);
  return Number.isNaN(n) ? 4 : Math.min(1024, Math.max(1, n));
}

/**
 * The harvester holds one libuv threadpool thread while a device is open. With
 * UV_THREADPOOL_SIZE=1 that is every thread: each fs, dns, crypto, zlib or other koffi async call
 * of the process then waits for the blocked call to return, up to its WAKE_INTERVAL_MS (1 s)
 * each, far from the cause. That one case is reported through process.emitWarning (code USBFN_THREADPOOL), once:
 * Node's own channel for misconfiguration, which the application can route or silence
 * (process.on('warning'), --no-warnings); the library itself never writes to the console. Any
 * other size is only logged (usbfn:win32): the cost there is one thread of the pool.
 */
export function warnSmallThreadpool(): void {
  const size = libuvThreadpoolSize();
  debug('libuv threadpool: %d threads, 1 held by the harvester while a device is open', size);
  if (size >= 2 || threadpoolWarned) return;
  threadpoolWarned = true;
  process.emitWarning(
    'UV_THREADPOOL_SIZE=1: the usbfn Windows backend holds that one libuv thread while a device is open, so fs, dns, ' +
      'crypto and zlib calls wait up to 1 s each. Set UV_THREADPOOL_SIZE to 2 or more (default 4).',
    { code: 'USBFN_THREADPOOL' },
  );
}
