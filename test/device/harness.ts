/**
 * Shared by the device and control suites: a UsbFnDevice opened on a backend stack from
 * test/backends.ts, with the emulator's host side, an IOCTL log, and helpers that observe
 * behaviour (never wall-clock time).
 */
import * as uvu from 'uvu';
import { backends, type BackendStack, type TestBackend } from '../backends.js';
import { UsbFnDevice, type UsbFnDeviceOptions } from '../../lib/index.js';
import type { EmulatorOptions, EmulatedGenericUsbFn, SimulatedHost } from '../../lib/driver/emulator/index.js';
import type { SetupPacket } from '../../native-defs/codec.js';

export { backends, type TestBackend };

export interface DeviceStack {
  /** The facade under test. */
  device: UsbFnDevice;
  /** The emulated GenericUSBFn.sys (pending(), 'ioctl' events, injectFault). */
  emu: EmulatedGenericUsbFn;
  host: SimulatedHost;
  stack: BackendStack;
  /** Short IOCTL names issued on pipe 0 since open (or since `ep0Log.length = 0`). */
  ep0Log: string[];
  close(): Promise<void>;
}

/**
 * Stacks opened and not yet closed: closed after each test, so a failing assertion cannot leave
 * a device open (an open koffi device keeps the process alive, and the run would hang).
 */
const openStacks = new Set<() => Promise<void>>();

/** Closes every stack a test left open. */
export async function closeOpenStacks(): Promise<void> {
  await Promise.allSettled([...openStacks].map((close) => close()));
}

/** Opens a device on `backend`; `enumerate` (default true) lets the host enumerate it at high speed first. */
export async function openDevice(
  backend: TestBackend,
  options: { emulator?: EmulatorOptions; device?: Omit<UsbFnDeviceOptions, 'driver'>; enumerate?: boolean | 'full' | 'high' | 'super' } = {},
): Promise<DeviceStack> {
  const stack = await backend.create(options.emulator);
  const emu = stack.device;
  const ep0Log: string[] = [];
  emu.on('ioctl', (info) => {
    if (info.pipeId === 0 && info.name !== 'GET_PIPE_STATE') ep0Log.push(info.name);
  });
  const device = await UsbFnDevice.open({ ...options.device, driver: stack.driver });
  const close = async () => {
    openStacks.delete(close);
    await device.close();
    await stack.close();
  };
  openStacks.add(close);
  const speed = options.enumerate === undefined || options.enumerate === true ? 'high' : options.enumerate;
  if (speed) await enumerated(device, emu, speed);
  return {
    device,
    emu,
    host: stack.host,
    stack,
    ep0Log,
    close,
  };
}

/** Enumerates and waits until the device itself has seen 'configured'. */
export async function enumerated(device: UsbFnDevice, emu: EmulatedGenericUsbFn, speed: 'full' | 'high' | 'super' = 'high'): Promise<void> {
  const seen = device.configured ? Promise.resolve() : new Promise<void>((resolve) => device.once('configured', () => resolve()));
  await emu.host.enumerate({ speed });
  await seen;
}

/** A class request to interface 0. */
export function classRequest(direction: 'in' | 'out', bRequest: number, wLength: number, wValue = 0): SetupPacket {
  return { bmRequestType: (direction === 'in' ? 0x80 : 0) | 0x21, bRequest, wValue, wIndex: 0, wLength };
}

/** Resolves with the error a promise rejects with; fails if it resolves. */
export async function rejection(p: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await p;
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error('expected a rejection, got a resolution');
}

/** The error a function throws synchronously; fails if it does not throw. */
export function thrown(fn: () => unknown): Error & { code?: string } {
  try {
    fn();
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error('expected a synchronous throw');
}

/** Resolves once `emitter` emits `event`, with its arguments. */
export function once<T extends unknown[]>(emitter: { once(event: string, fn: (...args: T) => void): unknown }, event: string): Promise<T> {
  return new Promise((resolve) => emitter.once(event, (...args: T) => resolve(args)));
}

/** Waits (bounded by wall time) until `condition()` holds: see test/wait.ts. */
export { waitUntil as settleUntil } from '../wait.js';

/** Lets completions already queued settle (the emulator completes on setImmediate batches). */
export async function settle(turns = 3): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve));
}

/**
 * One uvu suite per backend, named `${name} [${backend}]`; a backend that cannot run here is
 * skipped with its reason printed. `define` registers the tests on the suite.
 */
export function suitePerBackend(name: string, define: (test: uvu.Test, backend: TestBackend) => void): void {
  for (const backend of backends) {
    const suite = uvu.suite(`${name} [${backend.name}]`);
    if (backend.skip) {
      console.log(`skipping ${name} on ${backend.name}: ${backend.skip}`);
      suite.skip(`${name} (${backend.skip})`, () => undefined);
    } else {
      suite.after.each(closeOpenStacks);
      define(suite, backend);
    }
    suite.run();
  }
}
