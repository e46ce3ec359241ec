/**
 * readBuffers 'lend' (zero-copy reads): chunks are views of pool buffers, lent to the consumer
 * until it returns them with returnChunk(); a consumer that keeps them stops the reads instead
 * of letting the pool overwrite them; misuse (twice, a foreign chunk) is refused with a code.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BulkReader, BulkWriter } from '../../lib/stream/bulk-pipe.js';
import { isUsbFnError } from '../../lib/errors.js';
import { BULK_IN, BULK_OUT, destroyed, forEachBackend, until, withStack } from './helpers.js';

const readSize = 1024;

function throwsCode(fn: () => void, code: string, message: string): void {
  try {
    fn();
  } catch (err) {
    assert.ok(isUsbFnError(err), message);
    assert.is((err as { code: string }).code, code, message);
    return;
  }
  assert.unreachable(message);
}

forEachBackend((backend, it) => {
  it("'lend': chunks are views of the pool, handed over without a copy, bytes intact when returned in turn", () =>
    withStack(backend, async (s) => {
      const reader = new BulkReader({ driver: s.driver, link: s.link, out: BULK_OUT, readsOutstanding: 2, readSize, readBuffers: 'lend' });
      const got: Buffer[] = [];
      const backing = new Set<ArrayBufferLike>();
      reader.on('data', (c: Buffer) => {
        backing.add(c.buffer);
        got.push(Buffer.from(c)); // the test's own copy, taken before the chunk goes back
        reader.returnChunk(c);
      });
      const sent = Array.from({ length: 20 }, (_, i) => Buffer.alloc(i % 2 ? readSize : 100, i));
      for (const bytes of sent) await s.host.bulkOut(BULK_OUT, bytes);
      await until(() => got.length === 20, '20 chunks');
      assert.equal(Buffer.concat(got), Buffer.concat(sent));
      assert.is(backing.size, 1, 'every chunk views the one pool slab');
      assert.is(reader.stats.poolAllocations, 1, 'no allocation per read');
      await destroyed(reader);
    }));

  it("'lend': a consumer that keeps its chunks stops the reads, and returning one resumes them", () =>
    withStack(backend, async (s) => {
      const reader = new BulkReader({ driver: s.driver, link: s.link, out: BULK_OUT, readsOutstanding: 2, readSize, readBuffers: 'lend' });
      const kept: Buffer[] = [];
      reader.on('data', (c: Buffer) => kept.push(c));
      const sending = (async () => {
        for (let i = 0; i < 6; i++) await s.host.bulkOut(BULK_OUT, Buffer.alloc(readSize, i + 1));
      })();
      await until(() => kept.length === 4, 'the pool (2 × readsOutstanding) lent out');
      await until(() => reader.stats.readsPending === 0, 'no read pending while every buffer is lent');
      assert.is(reader.stats.poolInUse, 4);
      kept.forEach((c, i) => assert.ok(c.every((b) => b === i + 1), `kept chunk ${i} was not overwritten`));
      reader.returnChunk(kept[0]);
      await until(() => kept.length === 5, 'a returned buffer receives again');
      for (const c of kept.slice(1)) reader.returnChunk(c);
      await until(() => kept.length === 6, 'all sent');
      await sending;
      assert.ok(kept[5].every((b) => b === 6));
      await destroyed(reader);
    }));

  it("'lend': at most readsOutstanding reads at the driver, though the pool holds twice that", () =>
    withStack(backend, async (s) => {
      const reader = new BulkReader({ driver: s.driver, link: s.link, out: BULK_OUT, readsOutstanding: 2, readSize, readBuffers: 'lend' });
      let most = 0;
      const got: number[] = [];
      reader.on('data', (c: Buffer) => {
        got.push(c[0]!);
        reader.returnChunk(c); // at once: buffers to spare, yet no more reads than asked
        most = Math.max(most, reader.stats.readsPending);
      });
      await until(() => reader.stats.readsPending === 2, 'the reads issued');
      most = reader.stats.readsPending;
      for (let i = 0; i < 6; i++) await s.host.bulkOut(BULK_OUT, Buffer.alloc(readSize, i + 1));
      await until(() => got.length === 6, 'all sent');
      assert.equal(got, [1, 2, 3, 4, 5, 6]);
      assert.is(most, 2, 'reads pending at most');
      assert.is(reader.stats.readsPending, 2);
      await destroyed(reader);
    }));

  it("'lend': returning a chunk twice, a foreign chunk or a copy throws USBFN_ERR_INVALID_ARG; after close it is harmless", () =>
    withStack(backend, async (s) => {
      const reader = new BulkReader({ driver: s.driver, link: s.link, out: BULK_OUT, readsOutstanding: 1, readSize, readBuffers: 'lend' });
      const kept: Buffer[] = [];
      reader.on('data', (c: Buffer) => kept.push(c));
      await s.host.bulkOut(BULK_OUT, Buffer.alloc(10, 7));
      await s.host.bulkOut(BULK_OUT, Buffer.alloc(10, 8));
      await until(() => kept.length === 2, 'two chunks');
      throwsCode(() => reader.returnChunk(Buffer.alloc(10)), 'USBFN_ERR_INVALID_ARG', 'a foreign Buffer');
      throwsCode(() => reader.returnChunk(Buffer.from(kept[0])), 'USBFN_ERR_INVALID_ARG', 'a copy of a lent chunk');
      reader.returnChunk(kept[0]);
      throwsCode(() => reader.returnChunk(kept[0]), 'USBFN_ERR_INVALID_ARG', 'the same chunk twice');
      await destroyed(reader);
      reader.returnChunk(kept[1]); // still lent when the stream closed: no throw, nothing to reuse
      assert.is(reader.stats.poolInUse, 0);
    }));

  it("returnChunk on a stream that lends nothing: INVALID_ARG on a 'copy' reader, INVALID_STATE on a writer", () =>
    withStack(backend, async (s) => {
      const reader = new BulkReader({ driver: s.driver, link: s.link, out: BULK_OUT, readSize });
      const writer = new BulkWriter({ driver: s.driver, link: s.link, in: BULK_IN });
      const chunks: Buffer[] = [];
      reader.on('data', (c: Buffer) => chunks.push(c));
      await s.host.bulkOut(BULK_OUT, Buffer.alloc(10, 1));
      await until(() => chunks.length === 1, 'a chunk');
      throwsCode(() => reader.returnChunk(chunks[0]), 'USBFN_ERR_INVALID_ARG', "a 'copy' chunk is the consumer's own");
      throwsCode(() => writer.returnChunk(chunks[0]), 'USBFN_ERR_INVALID_STATE', 'a writer has no OUT pipe');
      await destroyed(reader);
      await destroyed(writer);
    }));
});

test.run();
