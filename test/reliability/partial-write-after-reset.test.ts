/**
 * Defect (issue 11, item 4): a write the host had partly read when a reset cancelled it is
 * re-sent from where it stopped, not whole: the host got whole packets of it in a completed
 * read, so sending those again would duplicate them.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BulkWriter } from '../../lib/stream/bulk-pipe.js';
import { BULK_IN, forEachBackend, patternBytes, until, withStack } from '../stream/helpers.js';

forEachBackend((backend, it) => {
  it('a 4103-byte write read 1024 bytes in before a reset: the host gets the other 3079 once, after it', () =>
    withStack(backend, async (s) => {
      const writer = new BulkWriter({ driver: s.driver, link: s.link, in: BULK_IN });
      writer.on('error', (e) => assert.unreachable(`stream error: ${e}`));
      const data = patternBytes(4103, 3);
      const taken = writer.writeTransfer(data);
      const first = await s.host.bulkIn(BULK_IN, 1024);
      assert.is(first.length, 1024);
      s.host.reset('high');
      await until(() => !s.link.configured, 'the link to go down');
      s.host.configure(1);
      await s.configured();
      const rest = await s.host.bulkIn(BULK_IN, 8192);
      assert.equal(Buffer.concat([first, rest]), data);
      assert.is(await taken, 4103, 'the transfer resolves with its whole length');
      assert.is(writer.stats.bytesWritten, 4103);
      writer.destroy();
    }));
});

test.run();
