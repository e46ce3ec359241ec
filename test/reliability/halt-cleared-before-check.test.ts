/**
 * Found by the fault soak: a transfer issued on a pipe the host halted fails with
 * ERROR_GEN_FAILURE, and the driver reports STALLED only if GET_PIPE_STATE still says halted.
 * A host that clears the halt before that round trip left a bare driver error, which destroyed
 * the stream. Now an ERROR_GEN_FAILURE on a pipe that is not halted is re-issued (up to three in
 * a row); a driver that keeps failing still fails the stream.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BulkReader, BulkWriter } from '../../lib/stream/bulk-pipe.js';
import { ERROR_GEN_FAILURE } from '../../native-defs/win32-errors.js';
import { BULK_IN, BULK_OUT, TRANSFER_IN, TRANSFER_OUT, forEachBackend, until, withStack } from '../stream/helpers.js';

forEachBackend((backend, it) => {
  it('a write failing once with ERROR_GEN_FAILURE on a pipe no longer halted is re-issued and delivered once', () =>
    withStack(backend, async (s) => {
      const writer = new BulkWriter({ driver: s.driver, link: s.link, in: BULK_IN });
      const errors: Error[] = [];
      writer.on('error', (e) => errors.push(e));
      s.device.injectFault({ code: TRANSFER_IN, pipeId: s.pipeId(BULK_IN), errno: ERROR_GEN_FAILURE });
      const sent = writer.writeTransfer(Buffer.from('survives'));
      assert.is(Buffer.from(await s.host.bulkIn(BULK_IN, 64)).toString(), 'survives');
      assert.is(await sent, 8);
      assert.equal(errors, []);
      writer.destroy();
    }));

  it('a read failing once with ERROR_GEN_FAILURE is re-issued; one failing every time fails the stream', () =>
    withStack(backend, async (s) => {
      const reader = new BulkReader({ driver: s.driver, link: s.link, out: BULK_OUT, readsOutstanding: 1 });
      s.device.injectFault({ code: TRANSFER_OUT, pipeId: s.pipeId(BULK_OUT), errno: ERROR_GEN_FAILURE });
      const chunks: Buffer[] = [];
      reader.on('data', (c: Buffer) => chunks.push(c));
      const failed = new Promise<{ code?: string }>((resolve) => reader.on('error', resolve));
      await s.host.bulkOut(BULK_OUT, Buffer.from('read anyway'));
      await until(() => chunks.length > 0, 'the data');
      assert.is(Buffer.concat(chunks).toString(), 'read anyway');
      s.device.injectFault({ code: TRANSFER_OUT, pipeId: s.pipeId(BULK_OUT), errno: ERROR_GEN_FAILURE, times: Infinity });
      s.host.bulkOut(BULK_OUT, Buffer.from('x')).catch(() => undefined);
      assert.is((await failed).code, 'USBFN_ERR_DRIVER');
      s.device.clearFaults();
    }));
});

test.run();
