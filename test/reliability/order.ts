/**
 * What the write-order tests share: `count` 1-byte writes queued with eight in flight, the host
 * reading them through bus faults, and the check that each arrived once, in order.
 */
import * as assert from 'uvu/assert';
import { BulkWriter } from '../../lib/stream/bulk-pipe.js';
import { BULK_IN, until, type StreamStack } from '../stream/helpers.js';

/** How many writes the order tests keep in flight: the faults land among them. */
export const WRITES_IN_FLIGHT = 8;

/**
 * A writer on BULK_IN that fails the test on a stream error, with writes 0..count-1 (one byte
 * each) queued; resolves once eight are in flight. `stallPollMs` (a host halt test): the writer
 * polls the pipe state that often and its 'stall' events are expected.
 */
export async function oneByteWritesInFlight(s: StreamStack, count: number, options: { stallPollMs?: number } = {}): Promise<BulkWriter> {
  const writer = new BulkWriter({ driver: s.driver, link: s.link, in: BULK_IN, writesInFlight: WRITES_IN_FLIGHT, ...options });
  writer.on('error', (e) => assert.unreachable(`stream error: ${e}`));
  if (options.stallPollMs !== undefined) writer.on('stall', () => undefined);
  for (let i = 0; i < count; i++) writer.write(Buffer.from([i]));
  await until(() => writer.stats.writesPending === WRITES_IN_FLIGHT, 'eight writes in flight');
  return writer;
}

/**
 * Reads from BULK_IN into `got` until it holds `count` bytes. A failed read (a bus loss, a halt)
 * waits a moment, and for the host to configure again, before the next.
 */
export async function readThroughFaults(s: StreamStack, got: number[], count: number): Promise<void> {
  while (got.length < count) {
    try {
      got.push(...(await s.host.bulkIn(BULK_IN, 64)));
    } catch {
      await new Promise((r) => setTimeout(r, 1)); // a halted pipe refuses at once: no busy loop
      await until(() => s.host.state === 'configured', 'the host to configure again');
    }
  }
}

/** Asserts the host got 0..count-1, each once, in order; then lets the writer settle and destroys it. */
export async function assertInOrder(got: number[], count: number, writer: BulkWriter): Promise<void> {
  assert.equal(got, Array.from({ length: count }, (_, i) => i), `host got ${got}`);
  await until(() => writer.stats.writesPending === 0, 'writes settled');
  writer.destroy();
}
