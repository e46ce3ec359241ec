/**
 * Packet mode (objectMode): one chunk is one USB transfer both ways; a received ZLP arrives as
 * an empty Buffer; `{ data, zlp }` chooses the ZLP per write; byte mode hides ZLPs.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BulkPipe, BulkReader } from '../../lib/stream/bulk-pipe.js';
import { BULK_IN, BULK_OUT, destroyed, forEachBackend, until, withStack } from './helpers.js';

forEachBackend((backend, it) => {
  it('reads: each host transfer is one chunk, a ZLP is an empty Buffer', () =>
    withStack(backend, async (s) => {
      const reader = new BulkReader({ driver: s.driver, link: s.link, out: BULK_OUT, packetMode: true, readSize: 4096 });
      const chunks: Buffer[] = [];
      reader.on('data', (c: Buffer) => chunks.push(c));
      const sends: Array<[number, boolean]> = [[1, false], [100, false], [0, false], [1000, false], [512, true], [1536, true], [513, false], [4096, false], [7, false]];
      for (const [length, zlp] of sends) await s.host.bulkOut(BULK_OUT, Buffer.alloc(length, length & 0xff), { zlp });
      await until(() => chunks.length === sends.length, `${sends.length} chunks`);
      assert.equal(chunks.map((c) => c.length), sends.map(([n]) => n), 'one chunk per host transfer; a full readSize ends one too');
      assert.ok(chunks.every((c, i) => c.every((b) => b === (sends[i][0] & 0xff))));
      assert.ok(Buffer.isBuffer(chunks[2]) && chunks[2].length === 0, 'the ZLP is an empty Buffer');
      await destroyed(reader);
    }));

  it('reads: a host transfer of exactly readSize plus a ZLP arrives as a full chunk, then an empty one', () =>
    withStack(backend, async (s) => {
      const reader = new BulkReader({ driver: s.driver, link: s.link, out: BULK_OUT, packetMode: true, readSize: 2048 });
      const chunks: Buffer[] = [];
      reader.on('data', (c: Buffer) => chunks.push(c));
      await s.host.bulkOut(BULK_OUT, Buffer.alloc(2048), { zlp: true });
      await s.host.bulkOut(BULK_OUT, Buffer.alloc(5000), { zlp: false }); // longer than readSize: split
      await until(() => chunks.length === 5, '5 chunks');
      assert.equal(chunks.map((c) => c.length), [2048, 0, 2048, 2048, 904]);
      await destroyed(reader);
    }));

  it('byte mode hides ZLPs: an empty transfer pushes nothing', () =>
    withStack(backend, async (s) => {
      const reader = new BulkReader({ driver: s.driver, link: s.link, out: BULK_OUT });
      const chunks: Buffer[] = [];
      reader.on('data', (c: Buffer) => chunks.push(c));
      await s.host.bulkOut(BULK_OUT, Buffer.alloc(0));
      await s.host.bulkOut(BULK_OUT, Buffer.alloc(3, 9));
      await until(() => reader.stats.transfersCompleted === 2, 'both transfers');
      assert.equal(chunks, [Buffer.alloc(3, 9)]);
      await destroyed(reader);
    }));

  it('writes: each chunk is one transfer; an empty Buffer is a ZLP; { data, zlp } picks the ZLP', () =>
    withStack(backend, async (s) => {
      const pipe = new BulkPipe({ driver: s.driver, link: s.link, out: BULK_OUT, in: BULK_IN, packetMode: true });
      pipe.write(Buffer.alloc(100, 1));
      pipe.write(Buffer.alloc(0));
      pipe.write(new Uint8Array(512)); // auto: ZLP
      pipe.write({ data: Buffer.alloc(512, 2), zlp: false }); // runs into the next on the wire
      pipe.write(Buffer.alloc(10, 3));
      pipe.write({ data: Buffer.alloc(513, 4), zlp: true }); // short anyway: no extra ZLP
      pipe.write({ data: Buffer.alloc(0), zlp: false }); // a 0-byte transfer is one ZLP regardless
      const lengths: number[] = [];
      for (let i = 0; i < 6; i++) lengths.push((await s.host.bulkIn(BULK_IN, 4096)).length);
      assert.equal(lengths, [100, 0, 512, 522, 513, 0]);
      await destroyed(pipe);
    }));

  it('writes: anything but bytes or { data, zlp } fails with USBFN_ERR_INVALID_ARG', () =>
    withStack(backend, async (s) => {
      const pipe = new BulkPipe({ driver: s.driver, link: s.link, in: BULK_IN, packetMode: true });
      const failed = new Promise<Error>((resolve) => pipe.on('error', resolve));
      pipe.write({ nope: 1 });
      assert.is((await failed as { code?: string }).code, 'USBFN_ERR_INVALID_ARG');
    }));

  it('echo in packet mode keeps every boundary, ZLPs included', () =>
    withStack(backend, async (s) => {
      const pipe = new BulkPipe({ driver: s.driver, link: s.link, out: BULK_OUT, in: BULK_IN, packetMode: true, readSize: 4096 });
      pipe.pipe(pipe);
      const lengths = [7, 0, 512, 100, 1024, 0, 3000];
      for (const n of lengths) await s.host.bulkOut(BULK_OUT, Buffer.alloc(n, n & 0xff), { zlp: true });
      const back: number[] = [];
      for (let i = 0; i < lengths.length; i++) back.push((await s.host.bulkIn(BULK_IN, 4096)).length);
      assert.equal(back, lengths);
      await destroyed(pipe);
    }));
});

test.run();
