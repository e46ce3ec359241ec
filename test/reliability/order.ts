/**
 * What the write-order tests share: the host reading 1-byte writes through bus faults, and the
 * check that each arrived once, in order.
 */
import * as assert from 'uvu/assert';
import type { BulkWriter } from '../../lib/stream/bulk-pipe.js';
import { BULK_IN, until, type StreamStack } from '../stream/helpers.js';

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
