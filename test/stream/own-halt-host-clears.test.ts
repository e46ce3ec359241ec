/**
 * A halt the device set with stall() is the host's to clear as well: after the host's
 * CLEAR_FEATURE(ENDPOINT_HALT), data flows again without clearStall() (USB 2.0 §9.4.5; how a
 * class protocol such as mass storage recovers). The end-to-end suite checks the same on
 * FunctionFS, where the function is never told of the clear and learns it from data moving.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BulkPipe, type StallEvent } from '../../lib/stream/bulk-pipe.js';
import { BULK_IN, BULK_OUT, destroyed, forEachBackend, rejectsWith, until, withStack } from './helpers.js';

forEachBackend((backend, it) => {
  it("stall('in'), then the host clears the halt: the next writes reach the host, no 'stall' event", () =>
    withStack(backend, async (s) => {
      const pipe = new BulkPipe({ driver: s.driver, link: s.link, out: BULK_OUT, in: BULK_IN, stallPollMs: 5 });
      const stalls: StallEvent[] = [];
      pipe.on('stall', (e: StallEvent) => stalls.push(e));
      await pipe.stall('in');
      await rejectsWith(s.host.bulkIn(BULK_IN, 512), 'USBFN_ERR_STALLED');
      pipe.write(Buffer.from('written while halted'));
      s.host.clearHalt(BULK_IN);
      assert.is(Buffer.from(await s.host.bulkIn(BULK_IN, 512)).toString(), 'written while halted');
      pipe.write(Buffer.from('and after'));
      assert.is(Buffer.from(await s.host.bulkIn(BULK_IN, 512)).toString(), 'and after');
      await until(() => pipe.stats.writesPending === 0, 'the writes to complete');
      assert.not.ok(await pipe.isStalled('in'));
      assert.is(stalls.length, 0, 'our own halt is not reported as a stall');
      await destroyed(pipe);
    }));

  it("stall('out'), then the host clears the halt: its data arrives", () =>
    withStack(backend, async (s) => {
      const pipe = new BulkPipe({ driver: s.driver, link: s.link, out: BULK_OUT, in: BULK_IN, stallPollMs: 5 });
      const chunks: Buffer[] = [];
      pipe.on('data', (c: Buffer) => chunks.push(c));
      await pipe.stall('out');
      await rejectsWith(s.host.bulkOut(BULK_OUT, Buffer.from('refused')), 'USBFN_ERR_STALLED');
      s.host.clearHalt(BULK_OUT);
      await s.host.bulkOut(BULK_OUT, Buffer.from('accepted'));
      await until(() => chunks.length === 1, 'the data after the clear');
      assert.is(chunks[0].toString(), 'accepted');
      assert.not.ok(await pipe.isStalled('out'));
      await destroyed(pipe);
    }));
});

test.run();
