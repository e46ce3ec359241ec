/**
 * Cancellation racing completion: a read is aborted just as the host's packet reaches it. Each
 * round ends either with the read completed with the packet or cancelled with the packet left
 * for the next read: never lost, never delivered twice.
 */
import { getEventListeners } from 'node:events';
import * as assert from 'uvu/assert';
import { isUsbFnError } from '../../lib/errors.js';
import { waitUntil } from '../wait.js';
import { BULK_OUT, configuredStack, wineSuite } from './helpers.js';

wineSuite('cancellation racing completion', (it) => {
  it('every packet raced by an abort arrives exactly once', async () => {
    const { s, outId } = await configuredStack();
    try {
      const received: number[] = [];
      for (let i = 0; i < 40; i++) {
        const ac = new AbortController();
        const buffer = new Uint8Array(512);
        const read = s.driver.transferOut(outId, buffer, { signal: ac.signal });
        await waitUntil(() => s.device.pending({ pipeId: outId }) === 1, 'the read held by the emulator', 30_000);
        const sent = s.host.bulkOut(BULK_OUT, Uint8Array.of(i));
        if (i % 2) await Promise.resolve(); // vary which side goes first
        ac.abort();
        const outcome = await read.then((n) => ({ n }), (err: unknown) => ({ err }));
        if ('n' in outcome) {
          assert.is(outcome.n, 1);
          received.push(buffer[0]!);
        } else {
          assert.ok(isUsbFnError(outcome.err) && outcome.err.code === 'USBFN_ERR_CANCELED', String(outcome.err));
          const again = new Uint8Array(512);
          assert.is(await s.driver.transferOut(outId, again), 1, 'the packet waited for the next read');
          received.push(again[0]!);
        }
        await sent;
      }
      assert.equal(received, Array.from({ length: 40 }, (_, i) => i));
    } finally {
      await s.close();
    }
  });

  it('one signal on four pending reads: one listener, and its abort cancels all four, losing nothing', async () => {
    const { s, outId } = await configuredStack();
    try {
      const ac = new AbortController();
      const reads = Array.from({ length: 4 }, () => s.driver.transferOut(outId, new Uint8Array(512), { signal: ac.signal }).then(() => 'done', (e: unknown) => e));
      await waitUntil(() => s.device.pending({ pipeId: outId }) === 4, 'the four reads held by the emulator', 30_000);
      assert.ok(getEventListeners(ac.signal, 'abort').length <= 2, 'not one listener per read (driver and device at most one each)');
      ac.abort();
      for (const outcome of await Promise.all(reads)) assert.ok(isUsbFnError(outcome) && outcome.code === 'USBFN_ERR_CANCELED', String(outcome));
      const sent = s.host.bulkOut(BULK_OUT, Uint8Array.of(7));
      const again = new Uint8Array(512);
      assert.is(await s.driver.transferOut(outId, again), 1, 'the packet went to the next read');
      assert.is(again[0], 7);
      await sent;
    } finally {
      await s.close();
    }
  });
});
