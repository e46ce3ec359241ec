/**
 * Closing: destroy() with transfers pending cancels them all, returns every pool buffer and
 * leaves no IOCTL pending at the driver; writes after end/destroy get coded errors; AbortSignal
 * destroys; the link closing destroys its pipes.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BulkPipe, BulkReader, BulkWriter } from '../../lib/stream/bulk-pipe.js';
import { BULK_IN, BULK_OUT, TRANSFER_IN, TRANSFER_IN_ZLP, TRANSFER_OUT, destroyed, forEachBackend, until, withStack, type StreamStack } from './helpers.js';

const pendingTransfers = (s: StreamStack) =>
  s.device.pending({ code: TRANSFER_OUT }) + s.device.pending({ code: TRANSFER_IN }) + s.device.pending({ code: TRANSFER_IN_ZLP });

forEachBackend((backend, it) => {
  it('destroy() with reads and writes pending releases everything: pool buffers and pending IOCTLs zero', () =>
    withStack(backend, async (s) => {
      const pipe = new BulkPipe({ driver: s.driver, link: s.link, out: BULK_OUT, in: BULK_IN, readsOutstanding: 8, writesInFlight: 4 });
      pipe.resume();
      const completions: Array<Promise<unknown>> = [];
      for (let i = 0; i < 6; i++) completions.push(pipe.writeTransfer(Buffer.alloc(1000)).catch((e: Error) => e));
      await until(() => s.device.pending({ code: TRANSFER_OUT }) === 8 && s.device.pending({ code: TRANSFER_IN }) === 4, 'transfers at the driver');
      assert.is(pipe.stats.poolInUse, 8);
      await destroyed(pipe);
      assert.equal(
        [pipe.stats.readsPending, pipe.stats.writesPending, pipe.stats.writesQueued, pipe.stats.poolInUse],
        [0, 0, 0, 0],
        'nothing pending, nothing held, every buffer back',
      );
      assert.is(pendingTransfers(s), 0, 'no transfer IOCTL pending at the driver');
      const outcomes = await Promise.all(completions);
      assert.ok(outcomes.every((e) => (e as { code?: string }).code === 'USBFN_ERR_CLOSED'), 'unsent writes reject with USBFN_ERR_CLOSED');
    }));

  it('destroy() is idempotent and awaitable through close; destroy(err) emits that error', () =>
    withStack(backend, async (s) => {
      const reader = new BulkReader({ driver: s.driver, link: s.link, out: BULK_OUT });
      reader.resume();
      await until(() => reader.stats.readsPending === 4, 'reads');
      const errors: Error[] = [];
      reader.on('error', (e) => errors.push(e));
      const boom = new Error('boom');
      const closed = destroyed(reader, boom);
      reader.destroy();
      await closed;
      assert.equal(errors, [boom]);
      assert.is(reader.stats.poolInUse, 0);
      assert.is(pendingTransfers(s), 0);
    }));

  it('writes after end() fail with ERR_STREAM_WRITE_AFTER_END, after destroy() with ERR_STREAM_DESTROYED', () =>
    withStack(backend, async (s) => {
      const ended = new BulkWriter({ driver: s.driver, link: s.link, in: BULK_IN });
      ended.on('error', () => {});
      ended.end();
      const afterEnd = await new Promise<Error | null | undefined>((resolve) => ended.write(Buffer.from('x'), resolve));
      assert.is((afterEnd as { code?: string }).code, 'ERR_STREAM_WRITE_AFTER_END');
      const gone = new BulkPipe({ driver: s.driver, link: s.link, out: BULK_OUT, in: BULK_IN });
      await destroyed(gone);
      const afterDestroy = await new Promise<Error | null | undefined>((resolve) => gone.write(Buffer.from('x'), resolve));
      assert.is((afterDestroy as { code?: string }).code, 'ERR_STREAM_DESTROYED');
      const rejected = await gone.writeTransfer(Buffer.from('x')).catch((e: Error) => e);
      assert.is((rejected as { code?: string }).code, 'ERR_STREAM_DESTROYED');
    }));

  it('a write held past the window gets the close error in its callback', () =>
    withStack(backend, async (s) => {
      const writer = new BulkWriter({ driver: s.driver, link: s.link, in: BULK_IN, writesInFlight: 1, writableHighWaterMark: 1 });
      writer.write(Buffer.alloc(10));
      const held = new Promise<Error | null | undefined>((resolve) => writer.write(Buffer.alloc(10), resolve));
      await until(() => writer.stats.writesPending === 1, 'one in flight');
      writer.destroy();
      assert.is(((await held) as { code?: string }).code, 'USBFN_ERR_CLOSED');
      await until(() => writer.closed, 'closed');
      assert.is(pendingTransfers(s), 0);
    }));

  it('an AbortSignal destroys the stream with an AbortError and cancels its transfers', () =>
    withStack(backend, async (s) => {
      const controller = new AbortController();
      const pipe = new BulkPipe({ driver: s.driver, link: s.link, out: BULK_OUT, in: BULK_IN, signal: controller.signal });
      const failed = new Promise<Error>((resolve) => pipe.on('error', resolve));
      pipe.resume();
      pipe.write(Buffer.alloc(100));
      await until(() => pendingTransfers(s) === 5, 'transfers pending');
      controller.abort();
      assert.is((await failed).name, 'AbortError');
      await until(() => pipe.closed, 'closed');
      assert.is(pendingTransfers(s), 0);
      assert.is(pipe.stats.poolInUse, 0);
    }));

  it('closing the link destroys its pipes quietly', () =>
    withStack(backend, async (s) => {
      const pipe = new BulkPipe({ driver: s.driver, link: s.link, out: BULK_OUT, in: BULK_IN });
      pipe.on('error', (e) => assert.unreachable(String(e)));
      pipe.resume();
      await until(() => pipe.stats.readsPending === 4, 'reads');
      s.link.close();
      await until(() => pipe.closed, 'closed');
      assert.is(pendingTransfers(s), 0);
    }));

  it('a reader whose pool was never used allocates nothing', () =>
    withStack(backend, async (s) => {
      const reader = new BulkReader({ driver: s.driver, link: s.link, out: BULK_OUT, readSize: 1 << 20 });
      assert.is(reader.stats.poolAllocations, 0);
      await destroyed(reader);
      assert.is(reader.stats.poolAllocations, 0);
    }));

  it('a readSize that is not a multiple of the speed\'s wMaxPacketSize destroys the stream with USBFN_ERR_INVALID_ARG', () =>
    withStack(backend, async (s) => {
      const reader = new BulkReader({ driver: s.driver, link: s.link, out: BULK_OUT, readSize: 64 * 9 });
      const failed = new Promise<Error>((resolve) => reader.on('error', resolve));
      assert.is(((await failed) as { code?: string }).code, 'USBFN_ERR_INVALID_ARG');
    }));
});

test.run();
