/**
 * Builds the stand-in library with the machine's C compiler, when it is missing or older than
 * its sources. Only tests and benchmarks call this: `npm install` never compiles anything.
 * Where there is no `cc`, the result says so and the koffi → stand-in tests skip with that reason.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, renameSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const STANDIN_DIR = path.dirname(fileURLToPath(import.meta.url));
export const BUILD_DIR = path.join(STANDIN_DIR, 'build');
/** The library's path: one file stands in for both kernel32 and cfgmgr32. */
export const LIBRARY_PATH = path.join(BUILD_DIR, process.platform === 'darwin' ? 'win32-standin.dylib' : 'win32-standin.so');

const SOURCES = ['kernel32.c', 'port.c', 'ioctl.c', 'cfgmgr32.c', 'notify.c', 'transport.c'];
const HEADERS = ['standin.h'];

export type BuildResult = { path: string; skip?: undefined } | { skip: string; path?: undefined };

let cached: BuildResult | null = null;

function mtime(file: string): number {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return -1;
  }
}

function compilerAvailable(cc: string): boolean {
  const probe = spawnSync(cc, ['--version'], { stdio: 'ignore' });
  return !probe.error && probe.status === 0;
}

/**
 * The stand-in library, built if needed: `{ path }`, or `{ skip }` with the reason when this
 * machine has no C compiler or is Windows (where the real DLLs are used instead). A compile
 * error throws: broken C is a failure, not a reason to skip.
 */
export function buildStandin(): BuildResult {
  if (cached) return cached;
  if (process.platform === 'win32') {
    return (cached = { skip: 'on Windows the real kernel32/cfgmgr32 are used, not the stand-in' });
  }
  const inputs = [...SOURCES, ...HEADERS].map((f) => path.join(STANDIN_DIR, f));
  if (mtime(LIBRARY_PATH) >= Math.max(...inputs.map(mtime))) return (cached = { path: LIBRARY_PATH });
  const cc = process.env.CC || 'cc';
  if (!compilerAvailable(cc)) {
    return (cached = { skip: `no C compiler (${cc}) on PATH: cannot build test/win32-standin, koffi-path tests skipped` });
  }
  mkdirSync(BUILD_DIR, { recursive: true });
  const tmp = `${LIBRARY_PATH}.${process.pid}.tmp`; // then rename: concurrent builders never see half a file
  const args = ['-shared', '-fPIC', '-O2', '-pthread', '-Wall', '-Wextra', '-fvisibility=hidden', '-o', tmp,
    ...SOURCES.map((f) => path.join(STANDIN_DIR, f))];
  const run = spawnSync(cc, args, { encoding: 'utf8' });
  if (run.error || run.status !== 0) {
    throw new Error(`building the Win32 stand-in failed (${cc} ${args.join(' ')}):\n${run.stderr ?? run.error}`);
  }
  renameSync(tmp, LIBRARY_PATH);
  return (cached = { path: LIBRARY_PATH });
}
