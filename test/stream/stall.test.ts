/**
 * Stall: stall() / clearStall() / isStalled() through SET/GET_PIPE_STATE, as the host sees them;
 * a transfer failing on a pipe halted behind the stream's back emits 'stall' (USBFN_ERR_STALLED)
 * and resumes once the host clears the halt, or destroys the stream with onStall 'error'.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BulkPipe, BulkReader, BulkWriter, type StallEvent } from '../../lib/stream/bulk-pipe.js';
import { BULK_IN, BULK_OUT, destroyed, forEachBackend, openStack, rejectsWith, turn, until, withStack } from './helpers.js';

forEachBackend((backend, it) => {
  it("stall('in') halts after the writes already accepted; later writes wait for clearStall()", () =>
    withStack(backend, async (s) => {
      const writer = new BulkWriter({ driver: s.driver, link: s.link, in: BULK_IN });
      for (const text of ['one', 'two', 'three']) writer.write(Buffer.from(text));
      let stalled = false;
      const stalling = writer.stall('in').then(() => (stalled = true));
      writer.write(Buffer.from('after'));
      const got: string[] = [];
      for (let i = 0; i < 3; i++) got.push(Buffer.from(await s.host.bulkIn(BULK_IN, 512)).toString());
      assert.equal(got, ['one', 'two', 'three']);
      await stalling;
      assert.ok(stalled && s.host.isHalted(BULK_IN));
      assert.ok(await writer.isStalled('in'));
      await rejectsWith(s.host.bulkIn(BULK_IN, 512), 'USBFN_ERR_STALLED');
      await writer.clearStall('in');
      assert.not.ok(s.host.isHalted(BULK_IN));
      assert.not.ok(await writer.isStalled());
      assert.is(Buffer.from(await s.host.bulkIn(BULK_IN, 512)).toString(), 'after');
      await destroyed(writer);
    }));

  it("stall('out') makes the host's OUT transfers fail STALLED until clearStall()", () =>
    withStack(backend, async (s) => {
      const reader = new BulkReader({ driver: s.driver, link: s.link, out: BULK_OUT });
      const chunks: Buffer[] = [];
      reader.on('data', (c: Buffer) => chunks.push(c));
      await reader.stall();
      assert.ok(s.host.isHalted(BULK_OUT));
      await rejectsWith(s.host.bulkOut(BULK_OUT, Buffer.from('refused')), 'USBFN_ERR_STALLED');
      await reader.clearStall();
      await s.host.bulkOut(BULK_OUT, Buffer.from('accepted'));
      await until(() => chunks.length === 1, 'data after clearing');
      assert.is(chunks[0].toString(), 'accepted');
      await destroyed(reader);
    }));

  it('a Duplex stall() with no direction halts both pipes; isStalled() is true while any is', () =>
    withStack(backend, async (s) => {
      const pipe = new BulkPipe({ driver: s.driver, link: s.link, out: BULK_OUT, in: BULK_IN });
      await pipe.stall();
      assert.ok(s.host.isHalted(BULK_IN) && s.host.isHalted(BULK_OUT));
      await pipe.clearStall('out');
      assert.ok(await pipe.isStalled());
      assert.not.ok(await pipe.isStalled('out'));
      await pipe.clearStall('in');
      assert.not.ok(await pipe.isStalled());
      await destroyed(pipe);
    }));

  it("a write failing on a pipe halted behind the stream's back emits 'stall' and is re-sent once the host clears it", () =>
    withStack(backend, async (s) => {
      const writer = new BulkWriter({ driver: s.driver, link: s.link, in: BULK_IN, stallPollMs: 5 });
      await s.driver.setPipeState(s.pipeId(BULK_IN), true);
      const stalls: StallEvent[] = [];
      writer.on('stall', (e: StallEvent) => stalls.push(e));
      writer.write(Buffer.from('held'));
      await until(() => stalls.length === 1, "the 'stall' event");
      assert.is(stalls[0].error.code, 'USBFN_ERR_STALLED');
      assert.is(stalls[0].direction, 'in');
      assert.is(stalls[0].endpointAddress, BULK_IN);
      s.host.clearHalt(BULK_IN);
      assert.is(Buffer.from(await s.host.bulkIn(BULK_IN, 512)).toString(), 'held');
      assert.is(stalls.length, 1);
      await destroyed(writer);
    }));

  it("reads failing on a halted OUT pipe emit 'stall' once, then resume when the host clears the halt", () =>
    withStack(backend, async (s) => {
      await s.driver.setPipeState(s.pipeId(BULK_OUT), true);
      const reader = new BulkReader({ driver: s.driver, link: s.link, out: BULK_OUT, stallPollMs: 5 });
      const stalls: StallEvent[] = [];
      reader.on('stall', (e: StallEvent) => stalls.push(e));
      const chunks: Buffer[] = [];
      reader.on('data', (c: Buffer) => chunks.push(c));
      await until(() => stalls.length === 1, "the 'stall' event");
      // The other reads fail too, each in its own completion (later ones on the koffi path).
      await until(() => reader.stats.readsPending === 0, 'every failed read to come back');
      for (let i = 0; i < 20; i++) await turn();
      assert.is(stalls.length, 1, 'one event, not one per read');
      assert.is(reader.stats.readsPending, 0, 'no read re-issued while halted');
      s.host.clearHalt(BULK_OUT);
      await until(() => reader.stats.readsPending === 4, 'reads re-issued after the poll saw the halt cleared');
      await s.host.bulkOut(BULK_OUT, Buffer.from('resumed'));
      await until(() => chunks.length === 1, 'data');
      assert.is(chunks[0].toString(), 'resumed');
      await destroyed(reader);
    }));

  it("onStall 'error': a transfer failing on a halted pipe destroys the stream with USBFN_ERR_STALLED", () =>
    withStack(backend, async (s) => {
      await s.driver.setPipeState(s.pipeId(BULK_IN), true);
      const writer = new BulkWriter({ driver: s.driver, link: s.link, in: BULK_IN, onStall: 'error' });
      const failed = new Promise<Error>((resolve) => writer.on('error', resolve));
      writer.write(Buffer.from('x'));
      assert.is(((await failed) as { code?: string }).code, 'USBFN_ERR_STALLED');
      await until(() => writer.closed, 'closed');
      assert.is(writer.stats.writesPending, 0);
    }));

  it('a stall() waiting for accepted writes fails with USBFN_ERR_CLOSED when the stream is destroyed', () =>
    withStack(backend, async (s) => {
      const writer = new BulkWriter({ driver: s.driver, link: s.link, in: BULK_IN });
      writer.write(Buffer.from('never read'));
      const stalling = writer.stall('in');
      await until(() => writer.stats.writesPending === 1, 'in flight');
      writer.destroy();
      await rejectsWith(stalling, 'USBFN_ERR_CLOSED');
      assert.not.ok(s.host.isHalted(BULK_IN));
    }));

  it('stall API: USBFN_ERR_INVALID_STATE before configuration, USBFN_ERR_INVALID_ARG for a missing direction', async () => {
    const s = await openStack(backend, undefined, null);
    try {
      const reader = new BulkReader({ driver: s.driver, link: s.link, out: BULK_OUT });
      await rejectsWith(reader.stall(), 'USBFN_ERR_INVALID_STATE');
      await rejectsWith(reader.isStalled(), 'USBFN_ERR_INVALID_STATE');
      await rejectsWith(reader.stall('in'), 'USBFN_ERR_INVALID_ARG');
      await destroyed(reader);
    } finally {
      await s.close();
    }
  });
});

test.run();
