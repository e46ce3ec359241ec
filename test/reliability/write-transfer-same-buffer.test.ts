/**
 * Defect (issue 11, item 5): writeTransfer(buf, { zlp }) with a Buffer object a plain write()
 * still holds in the stream's buffer must keep its ZLP choice and its promise for its own
 * transfer, not attach them to the earlier write of the same object.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BulkWriter } from '../../lib/stream/bulk-pipe.js';
import { BULK_IN, forEachBackend, withStack } from '../stream/helpers.js';

forEachBackend((backend, it) => {
  it('writeTransfer of a Buffer already passed to write(): each transfer keeps its own ZLP and promise', () =>
    withStack(backend, async (s) => {
      const writer = new BulkWriter({ driver: s.driver, link: s.link, in: BULK_IN, writesInFlight: 1 });
      writer.on('error', (e) => assert.unreachable(`stream error: ${e}`));
      const names: string[] = [];
      s.device.on('ioctl', (info) => {
        if (info.pipeId === s.pipeId(BULK_IN) && info.length === 512) names.push(info.name);
      });
      const block = Buffer.alloc(512, 7);
      writer.write(Buffer.from('a'));
      writer.write(Buffer.from('b'));
      writer.write(block); // 'auto' policy: 512 is a multiple of wMaxPacketSize, so a ZLP follows
      let settled = false;
      const own = writer.writeTransfer(block, { zlp: false }).then((n) => ((settled = true), n));
      const reads: number[] = [];
      for (let i = 0; i < 3; i++) reads.push((await s.host.bulkIn(BULK_IN, 4096)).length);
      assert.equal(reads, [1, 1, 512], "the plain write's transfer ends with its ZLP");
      assert.is(settled, false, 'the writeTransfer promise waits for its own transfer');
      const last = await s.host.bulkIn(BULK_IN, 512);
      assert.is(last.length, 512);
      assert.is(await own, 512);
      assert.equal(names, ['TRANSFER_IN_APPEND_ZERO_PKT', 'TRANSFER_IN']);
      writer.destroy();
    }));
});

test.run();
