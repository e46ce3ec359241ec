/**
 * Defect (issue 11, item 2; issue 7's README finding): onBusLoss 'end' with a write in flight
 * at the detach. The write the host never took is dropped (its writeTransfer() rejects
 * USBFN_ERR_DISCONNECTED, stats.writesDropped counts it), the bytes already received are read,
 * then 'end', then 'close': never an 'error', so a stream without an 'error' listener cannot
 * crash the process.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BulkPipe, BulkWriter } from '../../lib/stream/bulk-pipe.js';
import { BULK_IN, BULK_OUT, forEachBackend, until, withStack } from '../stream/helpers.js';

forEachBackend((backend, it) => {
  it("a BulkPipe with a write in flight: the write fails, received bytes are read, then 'end' and 'close', no 'error'", () =>
    withStack(backend, async (s) => {
      const pipe = new BulkPipe({ driver: s.driver, link: s.link, out: BULK_OUT, in: BULK_IN, onBusLoss: 'end' });
      const errors: Error[] = [];
      pipe.on('error', (e) => errors.push(e));
      const pending = pipe.writeTransfer(Buffer.from('never read by the host')).then(() => 'sent', (e: { code?: string }) => e.code);
      pipe.write(Buffer.from('also in flight'));
      await until(() => pipe.stats.writesPending === 2, 'writes in flight');
      pipe.read(0); // start reading without consuming: the bytes stay in the readable buffer
      await s.host.bulkOut(BULK_OUT, Buffer.from('last words'));
      await until(() => pipe.readableLength > 0, 'bytes received, not yet read');
      s.host.detach();
      const chunks: Buffer[] = [];
      pipe.on('data', (c: Buffer) => chunks.push(c));
      await new Promise((resolve) => pipe.once('end', resolve));
      assert.is(Buffer.concat(chunks).toString(), 'last words');
      assert.is(await pending, 'USBFN_ERR_DISCONNECTED');
      await until(() => pipe.closed, 'closed after end');
      assert.equal(errors, []);
      assert.is(pipe.stats.writesDropped, 2);
      assert.equal([pipe.stats.readsPending, pipe.stats.writesPending, pipe.stats.poolInUse], [0, 0, 0]);
    }));

  it("a lone writer with a write in flight (the README's log example) closes without 'error'; later writes just fail their callback", () =>
    withStack(backend, async (s) => {
      const log = new BulkWriter({ driver: s.driver, link: s.link, in: BULK_IN, onBusLoss: 'end' });
      // no 'error' listener on purpose: an 'error' here would be an uncaught exception
      log.write('line 1\n');
      await until(() => log.stats.writesPending === 1, 'in flight');
      s.host.detach();
      await until(() => log.closed, 'closed');
      assert.is(log.stats.writesDropped, 1);
      const later = await new Promise<Error | null | undefined>((resolve) => log.write('line 2\n', resolve));
      assert.is((later as { code?: string }).code, 'ERR_STREAM_DESTROYED');
    }));
});

test.run();
