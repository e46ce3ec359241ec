/**
 * Shared by the stand-in tests: the loaded stand-in (or the reason it cannot be), suites that
 * skip with that reason printed, and fake drivers to put behind a device interface.
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import { suite, type Callback, type Test } from 'uvu';
import { IoctlError } from '../../lib/driver/genericusbfn/ioctl-device.js';
import { Win32IoctlDevice } from '../../lib/driver/genericusbfn/win32-device.js';
import { ERROR_OPERATION_ABORTED } from '../../native-defs/win32-errors.js';
import { Standin, type StandinHandler } from './host.js';

export const GUID = '{6A0B3F4E-2C1D-4E5F-8A9B-0C1D2E3F4A5B}';
export const OTHER_GUID = '{0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0}';
export const TRANSFER_OUT = 0x0022c016;

const loaded = Standin.load();
/** The stand-in, or null when it cannot be built here (see `skipReason`). */
export const standin: Standin | null = 'skip' in loaded ? null : loaded;
export const skipReason: string | null = 'skip' in loaded ? loaded.skip : null;

/** A uvu suite that, without the stand-in, prints why and skips every test. */
export function standinSuite(name: string): Test {
  const s = suite(name);
  if (!skipReason) return s;
  console.log(`skipping ${name}: ${skipReason}`);
  const skipping = ((n: string, fn: Callback) => s.skip(n, fn)) as unknown as Test;
  return Object.assign(skipping, { run: s.run, skip: s.skip, only: s.skip, before: s.before, after: s.after });
}

let serial = 0;

/** A fresh interface of GUID served by `handler`, opened with CreateFileW. */
export function openFake(handler: StandinHandler, guid = GUID): { dev: Win32IoctlDevice; id: number; link: string; remove(): void } {
  const link = `\\\\?\\USBFN#Fake#${process.pid}&${++serial}#${guid}`;
  const id = standin!.addInterface(guid, link, handler);
  const dev = Win32IoctlDevice.open(link);
  return { dev, id, link, remove: () => standin!.removeInterface(id) };
}

export interface FakeRequest {
  code: number;
  input: Uint8Array | null;
  output: Uint8Array | null;
  signal: AbortSignal;
  resolve(bytes: number): void;
  reject(errno: number, bytes?: number): void;
}

/** A driver that parks every request for the test to complete (and honours cancellation). */
export function parkingHandler(): StandinHandler & { parked: FakeRequest[]; closed: boolean; honourCancel: boolean } {
  const h = {
    parked: [] as FakeRequest[],
    closed: false,
    honourCancel: true,
    ioctl(code: number, input: Uint8Array | null, output: Uint8Array | null, signal: AbortSignal): Promise<number> {
      return new Promise<number>((resolve, reject) => {
        const req: FakeRequest = { code, input, output, signal, resolve, reject: (errno, bytes = 0) => reject(new IoctlError(errno, bytes)) };
        h.parked.push(req);
        signal.addEventListener('abort', () => h.honourCancel && req.reject(ERROR_OPERATION_ABORTED), { once: true });
      });
    },
    close() {
      h.closed = true;
    },
  };
  return h;
}

/** A driver that answers each request after `delayMs` by filling the output with `fill`. */
export function echoHandler(delayMs = 0, fill = 0xab): StandinHandler {
  return {
    ioctl(_code, _input, output, signal) {
      return new Promise<number>((resolve, reject) => {
        const t = setTimeout(() => {
          output?.fill(fill);
          resolve(output?.length ?? 0);
        }, delayMs);
        signal.addEventListener('abort', () => {
          clearTimeout(t);
          reject(new IoctlError(ERROR_OPERATION_ABORTED));
        }, { once: true });
      });
    },
  };
}

/** The IoctlError a promise rejects with (fails the test if it resolves or rejects otherwise). */
export async function ioctlErrorOf(p: Promise<unknown>): Promise<IoctlError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof IoctlError) return err;
    throw new Error(`expected an IoctlError, got ${String(err)}`);
  }
  throw new Error('expected a rejection, got a resolution');
}

/** Waits (bounded by wall time, not turns) until `cond` holds: see test/wait.ts. */
export { waitUntil as until } from '../wait.js';

/** Full garbage collection, to give V8 every chance to move what it may move. */
export function collectGarbage(): void {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  for (let i = 0; i < 3; i++) {
    const junk: object[] = [];
    for (let j = 0; j < 50_000; j++) junk.push({ j });
    gc();
  }
}
