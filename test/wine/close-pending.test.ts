/**
 * close() with requests pending: CancelIoEx reaches the broker's cancel routines, the emulator
 * answers each as cancelled, every promise settles, and the broker holds nothing afterwards.
 */
import * as assert from 'uvu/assert';
import { waitUntil } from '../wait.js';
import { acquireServer, releaseServer } from './backend.js';
import { configuredStack, wineSuite } from './helpers.js';

wineSuite('close with requests pending', (it) => {
  it('64 pending reads and writes all settle as failed and none stays in the broker', async () => {
    const server = await acquireServer(); // held across the stack's close, to read the counters after it
    try {
      const { s, outId, inId } = await configuredStack();
      const reads = Array.from({ length: 32 }, () => s.driver.transferOut(outId, new Uint8Array(512)));
      const writes = Array.from({ length: 32 }, () => s.driver.transferIn(inId, new Uint8Array(512).fill(7))); // the host never reads
      const settled = Promise.allSettled([...reads, ...writes]); // listening before they fail
      await waitUntil(() => s.device.pending() >= 64, '64 transfers held by the emulator', 60_000);
      await s.close();
      const outcomes = await settled;
      assert.ok(outcomes.every((o) => o.status === 'rejected'), 'every transfer failed');
      assert.is(s.device.pending(), 0, 'nothing pending at the emulator');
      const stats = await server.stats();
      assert.is(stats.irpsPending, 0, 'no IRP left in the broker');
      assert.is(stats.appFilesOpen, 0, 'the file object was closed');
    } finally {
      await releaseServer();
    }
  });
});
