/**
 * The stack the stream suites run on: a backend's driver and emulated device, a BusLink fed by
 * a bus-event pump (what the device facade does), and the SimulatedHost at the far end. Each
 * suite is a function of a backend, so it runs against every backend in test/backends.ts.
 */
import { createHash } from 'node:crypto';
import { backends, can, type BackendStack, type Capability, type TestBackend } from '../backends.js';
import { BusLink } from '../../lib/bus-link.js';
import type { EmulatorOptions } from '../../lib/driver/emulator/index.js';
import type { BusSpeed } from '../../lib/driver/driver.js';
import { test } from 'uvu';
import { isUsbFnError, type UsbFnErrorCode } from '../../lib/errors.js';
import * as IOCTL from '../../native-defs/ioctl.js';

export { backends, type TestBackend };

export const BULK_IN = 0x81;
export const BULK_OUT = 0x01;
export const TRANSFER_OUT = IOCTL.IOCTL_GENERICUSBFN_TRANSFER_OUT;
export const TRANSFER_IN = IOCTL.IOCTL_GENERICUSBFN_TRANSFER_IN;
export const TRANSFER_IN_ZLP = IOCTL.IOCTL_GENERICUSBFN_TRANSFER_IN_APPEND_ZERO_PKT;

export interface StreamStack extends BackendStack {
  link: BusLink;
  /** Pipe id of an endpoint address at the current speed. */
  pipeId(address: number): number;
  /** Resolves once the link has seen a 'configured' (the pump delivers events asynchronously). */
  configured(): Promise<void>;
  /** Closes link and driver and waits for the pump to stop. */
  close(): Promise<void>;
}

/** Builds the stack, starts the bus-event pump, and (unless `enumerate` is false) enumerates at high speed. */
export async function openStack(backend: TestBackend, emulatorOptions?: EmulatorOptions, speed: BusSpeed | null = 'high'): Promise<StreamStack> {
  const base = await backend.create(emulatorOptions);
  await base.driver.activate();
  const link = new BusLink(await base.driver.getClassInfo());
  const pump = (async () => {
    for (;;) {
      try {
        link.handle(await base.driver.nextBusEvent());
      } catch {
        return; // CLOSED: the driver is gone
      }
    }
  })();
  const stack: StreamStack = {
    ...base,
    link,
    pipeId: (address) => link.pipe(address)!.pipeId,
    configured: () => link.whenConfigured(AbortSignal.timeout(2000)),
    async close() {
      link.close();
      await base.close();
      await pump;
    },
  };
  if (speed) {
    await base.host.enumerate({ speed });
    await stack.configured();
  }
  return stack;
}

/** Runs `body` on a fresh stack and always closes it. */
export async function withStack(
  backend: TestBackend,
  body: (s: StreamStack) => Promise<void>,
  emulatorOptions?: EmulatorOptions,
  speed: BusSpeed | null = 'high',
): Promise<void> {
  const stack = await openStack(backend, emulatorOptions, speed);
  try {
    await body(stack);
  } finally {
    await stack.close();
  }
}

/** One event-loop turn (the emulator completes in setImmediate batches). */
export const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Waits (bounded by wall time) until `condition()` holds: see test/wait.ts. */
export { waitUntil as until } from '../wait.js';

import { patternBytes } from '../pattern.js';

export { patternBytes };

export const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

/** Asserts `promise` rejects with a UsbFnError of `code` (or, for a Node stream code, `err.code`). */
export { rejectsWithCode as rejectsWith } from '../wait.js';

export const isCode = (err: unknown, code: UsbFnErrorCode) => isUsbFnError(err, code);

/** The host reads IN transfers until `total` bytes have arrived; returns the concatenation. */
export async function hostReadAll(s: BackendStack, total: number, chunk = (1 << 20) + 512): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  let got = 0;
  while (got < total) {
    const part = await s.host.bulkIn(BULK_IN, chunk);
    parts.push(part);
    got += part.length;
  }
  return Buffer.concat(parts);
}

/**
 * Registers `suite(backend)` for every backend; a backend that cannot run here registers its
 * tests as skipped and prints why.
 */
const only = process.env.USBFN_TEST_ONLY;

export function forEachBackend(
  suite: (backend: TestBackend, it: (name: string, fn: () => Promise<void>, needs?: Capability[]) => void) => void,
): void {
  for (const backend of backends) {
    if (backend.skip) console.log(`skipping stream tests on ${backend.name}: ${backend.skip}`);
    suite(backend, (name, fn, needs = []) => {
      const full = `${backend.name}: ${name}`;
      if (only && !full.includes(only)) return; // USBFN_TEST_ONLY=<substring> runs matching tests only
      (backend.skip || !can(backend, ...needs) ? test.skip : test)(full, fn);
    });
  }
}

/**
 * Reads IN transfers until `total` bytes have arrived, hashing as it goes; returns the SHA-256.
 * Each read asks for more than a 1 MiB write, so a ZLP after a write ends that read (a read that
 * stopped exactly at its length would leave the ZLP, and the device's transfer, pending).
 */
export async function hostReadHash(s: BackendStack, total: number, chunk = (1 << 20) + 512): Promise<string> {
  const hash = createHash('sha256');
  const into = Buffer.allocUnsafe(chunk);
  let got = 0;
  while (got < total) {
    const part = await s.host.bulkIn(BULK_IN, chunk, { into });
    hash.update(part);
    got += part.length;
  }
  return hash.digest('hex');
}

/** Sends `blocks` blocks of `size` pseudo-random bytes on the OUT pipe; returns the SHA-256 of all. */
export async function hostSendHash(s: BackendStack, blocks: number, size = 1 << 20, each?: (i: number) => void | Promise<void>): Promise<string> {
  const hash = createHash('sha256');
  const block = patternBytes(size, 7);
  for (let i = 0; i < blocks; i++) {
    block.writeUInt32LE(i, 0);
    await s.host.bulkOut(BULK_OUT, block);
    hash.update(block);
    await each?.(i);
  }
  return hash.digest('hex');
}

/** Closes a stream and waits for its 'close' (every transfer settled, every buffer back). */
export function destroyed(stream: { destroy(err?: Error): unknown; once(event: 'close', fn: () => void): unknown; closed?: boolean }, err?: Error): Promise<void> {
  return new Promise((resolve) => {
    if (stream.closed) return resolve();
    stream.once('close', resolve);
    stream.destroy(err);
  });
}
