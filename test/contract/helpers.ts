/** Small helpers shared by the contract suites. */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { BackendStack, Capability, TestBackend } from '../backend-types.js';
import type { BusEvent, BusEventType } from '../../lib/driver/driver.js';
import { isUsbFnError, type UsbFnError, type UsbFnErrorCode } from '../../lib/errors.js';
import { rejectsWithCode } from '../wait.js';
import type { EmulatorOptions } from '../../lib/driver/emulator/index.js';
import type { GenericUsbFnDriverOptions } from '../../lib/driver/genericusbfn/index.js';

export const BULK_IN = 0x81;
export const BULK_OUT = 0x01;

/** Runs `body` on a fresh stack of `backend` and always closes it. */
export async function withStack(
  backend: TestBackend,
  body: (s: BackendStack) => Promise<void>,
  emulatorOptions?: EmulatorOptions,
  driverOptions?: GenericUsbFnDriverOptions,
): Promise<void> {
  const stack = await backend.create(emulatorOptions, driverOptions);
  try {
    await body(stack);
  } finally {
    await stack.close();
  }
}

/** Activates, lets the host enumerate at `speed`, and consumes the attach/reset/configured events. */
export async function configured(s: BackendStack, speed: 'full' | 'high' | 'super' = 'high'): Promise<BusEvent[]> {
  await s.driver.activate();
  await s.host.enumerate({ speed });
  return takeUntil(s, 'configured');
}

/** Reads bus events until one of `type` arrives; returns all read, in order. */
export async function takeUntil(s: BackendStack, type: BusEventType): Promise<BusEvent[]> {
  const seen: BusEvent[] = [];
  for (;;) {
    const e = await s.driver.nextBusEvent({ signal: AbortSignal.timeout(2000) });
    seen.push(e);
    if (e.type === type) return seen;
  }
}

/** Asserts `promise` rejects with a UsbFnError of `code`; returns the error. */
export async function rejectsWith(promise: Promise<unknown>, code: UsbFnErrorCode, message?: string): Promise<UsbFnError> {
  const err = await rejectsWithCode(promise, code, message);
  assert.ok(isUsbFnError(err), `${message ?? ''} expected a UsbFnError, got ${String(err)}`);
  return err as UsbFnError;
}

/** Pipe id of an endpoint address at the high-speed configuration. */
export async function pipeIdOf(s: BackendStack, address: number): Promise<number> {
  const info = await s.driver.getClassInfo();
  const pipe = info.high.pipes.find((p) => p.endpointAddress === address);
  assert.ok(pipe, `no pipe 0x${address.toString(16)}`);
  return pipe!.pipeId;
}

/** Lets queued completions run (the emulator completes asynchronously). */
export const settle = () => new Promise<void>((r) => setImmediate(r));

export const bytes = (n: number, seed = 1) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);

type Body = () => Promise<void>;

/** A uvu suite of the contract on one backend (see contractSuite). */
export interface ContractSuite {
  (name: string, body: Body): void;
  /** The test where the backend can produce every one of `needs`; elsewhere a skip with the reason. */
  needs(...needs: Capability[]): (name: string, body: Body) => void;
  /** The test where the backend cannot produce `cap` (it documents another behaviour instead); elsewhere a skip. */
  lacks(cap: Capability): (name: string, body: Body) => void;
  run(): void;
}

/** A suite whose tests also report their outcome to the backend (backend.report), skips with reasons. */
export function contractSuite(title: string, backend: TestBackend): ContractSuite {
  const s = suite(`${title} [${backend.name}]`);
  const report = backend.report?.bind(backend);
  const add = (name: string, body: Body) =>
    s(name, !report ? body : async () => {
      try {
        await body();
        report('ok', `${title}: ${name}`);
      } catch (err) {
        report('FAIL', `${title}: ${name}`, (err as Error).message);
        throw err;
      }
    });
  const test = add as ContractSuite;
  test.needs = (...needs) => (name, body) => {
    const why = needs.map((n) => backend.cannot?.[n]).find((reason) => reason !== undefined);
    if (why === undefined) return add(name, body);
    report?.('skip', `${title}: ${name}`, why);
    s.skip(name, body);
  };
  test.lacks = (cap) => (name, body) => {
    if (backend.cannot?.[cap] !== undefined) return add(name, body);
    report?.('skip', `${title}: ${name}`, `this backend has ${cap}`);
    s.skip(name, body);
  };
  test.run = () => s.run();
  return test;
}
