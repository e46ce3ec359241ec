/**
 * Many requests pending at once through Wine's I/O manager: 128 reads queued in the broker and
 * held by the emulator together, each completed into its own buffer, in issue order.
 */
import * as assert from 'uvu/assert';
import { waitUntil } from '../wait.js';
import { BULK_OUT, configuredStack, wineSuite } from './helpers.js';

wineSuite('many requests pending at once', (it) => {
  it('128 reads pending together each get their own packet, in the order issued', async () => {
    const { s, outId } = await configuredStack();
    try {
      const n = 128;
      const buffers = Array.from({ length: n }, () => new Uint8Array(512));
      const reads = buffers.map((b) => s.driver.transferOut(outId, b));
      await waitUntil(() => s.device.pending({ pipeId: outId }) === n, `${n} reads held by the emulator`, 60_000);
      for (let i = 0; i < n; i++) await s.host.bulkOut(BULK_OUT, Uint8Array.of(i, 0xa5)); // a short packet ends each read
      const counts = await Promise.all(reads);
      assert.ok(counts.every((c) => c === 2), 'each read got its two bytes');
      assert.equal(buffers.map((b) => b[0]), Array.from({ length: n }, (_, i) => i), 'in issue order, each into its own buffer');
    } finally {
      await s.close();
    }
  });
});
