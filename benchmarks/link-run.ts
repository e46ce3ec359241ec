/**
 * The harness the link benchmarks share: BulkPipe over GenericUsbFnDriver over the emulator with
 * its link model on (`link: { model: 'timed', turnaroundUs }`, lib/driver/emulator/link-model.ts),
 * one direction at a time, and the modelled utilisation of that pipe. Modelled time, not wall
 * clock: the figures are the same on a loaded machine, so one in-process run per configuration.
 */
import { BulkPipe } from '../lib/stream/bulk-pipe.js';
import { BULK_PIPE_DEFAULTS } from '../lib/stream/bulk-pipe-options.js';
import { linkUtilisation, type LinkStats } from '../lib/driver/emulator/index.js';
import { BULK_IN, BULK_OUT, MiB, openBenchStack, type BenchStack } from './stream-stack.js';

export type LinkSpeed = 'high' | 'super';
export type LinkOp = 'read' | 'write';

export interface LinkRunConfig {
  speed: LinkSpeed;
  /** 'read': host → device (TRANSFER_OUTs); 'write': device → host (TRANSFER_INs). */
  op: LinkOp;
  /** readSize for reads, the size of each write for writes. */
  size: number;
  /** readsOutstanding / writesInFlight; undefined = BulkPipe's default. */
  inFlight?: number;
  /** The device's modelled turnaround from a completion to its next transfer. */
  turnaroundUs: number;
  /** Payload to move; at least 64 transfers' worth is moved. */
  bytes: number;
}

export interface LinkRunResult {
  utilisation: number;
  payloadMBps: number;
  idleUs: number;
  elapsedUs: number;
}

/** Moves the payload one way through a BulkPipe with the link model on; returns the modelled figures. */
export async function runLink(c: LinkRunConfig): Promise<LinkRunResult> {
  const stack = await openBenchStack({ emulator: { link: { model: 'timed', turnaroundUs: c.turnaroundUs } }, speed: c.speed });
  const inFlight = c.inFlight ?? (c.op === 'read' ? BULK_PIPE_DEFAULTS.readsOutstanding : BULK_PIPE_DEFAULTS.writesInFlight);
  const pipe = new BulkPipe({
    driver: stack.driver, link: stack.link, out: BULK_OUT, in: BULK_IN, readSize: c.size,
    ...(c.op === 'read' ? { readsOutstanding: inFlight } : { writesInFlight: inFlight }),
  });
  const total = Math.max(c.bytes, 64 * c.size);
  const address = c.op === 'read' ? BULK_OUT : BULK_IN;
  const before = stack.device.linkStats(address) as LinkStats;
  await (c.op === 'read' ? hostSends(stack, pipe, total) : deviceSends(stack, pipe, c.size, total));
  const after = stack.device.linkStats(address) as LinkStats;
  pipe.destroy();
  await stack.close();
  return { ...linkUtilisation(before, after, c.speed), idleUs: after.idleUs - before.idleUs, elapsedUs: after.elapsedUs - before.elapsedUs };
}

/** The host sends `total` bytes in 1 MiB transfers; the pipe's consumer takes every chunk at once. */
async function hostSends(stack: BenchStack, pipe: BulkPipe, total: number): Promise<void> {
  const block = Buffer.alloc(MiB, 0x5a);
  let received = 0;
  const done = new Promise<void>((resolve) => {
    pipe.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received >= total) resolve();
    });
  });
  for (let sent = 0; sent < total; sent += block.length) await stack.device.host.bulkOut(BULK_OUT, block.subarray(0, Math.min(block.length, total - sent)));
  await done;
  pipe.pause();
}

/** The device writes `total` bytes in `size` writes (honouring backpressure); the host reads 1 MiB at a time. */
async function deviceSends(stack: BenchStack, pipe: BulkPipe, size: number, total: number): Promise<void> {
  const chunk = Buffer.alloc(size, 0x5a);
  const into = Buffer.allocUnsafe(MiB);
  const receive = async () => {
    for (let got = 0; got < total; ) got += (await stack.device.host.bulkIn(BULK_IN, MiB, { into })).length;
  };
  const send = async () => {
    for (let written = 0; written < total; written += size) {
      if (!pipe.write(chunk)) await new Promise((r) => pipe.once('drain', r));
    }
  };
  await Promise.all([send(), receive()]);
}

/** Smallest number of transfers in flight (1…max) that reaches `target`, or undefined. */
export async function inFlightNeeded(base: Omit<LinkRunConfig, 'inFlight'>, target: number, max = 32): Promise<number | undefined> {
  for (let n = 1; n <= max; n++) {
    if ((await runLink({ ...base, inFlight: n })).utilisation >= target) return n;
  }
  return undefined;
}
