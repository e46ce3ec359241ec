/**
 * The readable side: N TRANSFER_OUT outstanding at the driver, each on a pool buffer; in-order
 * delivery; no read re-issued while the readable side is full (the host is NAKed), and memory
 * bounded by pool + highWaterMark while a slow consumer reads 100 MiB.
 */
import { createHash } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BulkReader } from '../../lib/stream/bulk-pipe.js';
import { BusLink } from '../../lib/bus-link.js';
import type { ClassInfo, PipeInfo, UsbFnDriver } from '../../lib/driver/driver.js';
import { BULK_OUT, TRANSFER_OUT, destroyed, forEachBackend, hostSendHash, turn, until, withStack } from './helpers.js';

forEachBackend((backend, it) => {
  for (const n of [1, 3, 8]) {
    it(`keeps readsOutstanding = ${n} TRANSFER_OUT pending at the driver, never more`, () =>
      withStack(backend, async (s) => {
        const pipeId = s.pipeId(BULK_OUT);
        let inFlight = 0;
        let peak = 0;
        s.device.on('ioctl', (i) => i.code === TRANSFER_OUT && i.pipeId === pipeId && (peak = Math.max(peak, ++inFlight)));
        s.device.on('complete', (c) => c.code === TRANSFER_OUT && c.pipeId === pipeId && inFlight--);
        const reader = new BulkReader({ driver: s.driver, link: s.link, out: BULK_OUT, readsOutstanding: n, readSize: 4096 });
        reader.resume();
        await until(() => s.device.pending({ code: TRANSFER_OUT, pipeId }) === n, `${n} reads pending`);
        assert.is(reader.stats.readsPending, n);
        assert.is(reader.stats.poolInUse, n);
        await hostSendHash(s, 8, 10_000); // 8 short transfers, each completing a read
        await until(() => reader.stats.bytesRead === 80_000, 'all bytes read');
        await until(() => s.device.pending({ code: TRANSFER_OUT, pipeId }) === n, `${n} reads pending again`);
        assert.is(peak, n, 'never more than readsOutstanding in flight');
        assert.is(reader.stats.poolAllocations, 1, 'the pool allocated once');
        await destroyed(reader);
      }));
  }

  it("readSize 'packet': each TRANSFER_OUT asks for one wMaxPacketSize packet, so whole packets arrive with no short one after them", () =>
    withStack(backend, async (s) => {
      const pipeId = s.pipeId(BULK_OUT);
      const asked: number[] = [];
      s.device.on('ioctl', (i) => i.code === TRANSFER_OUT && i.pipeId === pipeId && asked.push(i.length));
      const reader = new BulkReader({ driver: s.driver, link: s.link, out: BULK_OUT, readsOutstanding: 4, readSize: 'packet' });
      const chunks: Buffer[] = [];
      reader.on('data', (chunk: Buffer) => chunks.push(chunk));
      await until(() => s.device.pending({ code: TRANSFER_OUT, pipeId }) === 4, '4 reads pending');
      const mps = 512; // high speed
      assert.ok(asked.every((n) => n === mps), `every read asks for ${mps} bytes: ${asked.join(',')}`);
      const data = Buffer.alloc(3 * mps, 7);
      await s.host.bulkOut(BULK_OUT, data); // three whole packets, no ZLP
      await until(() => reader.stats.bytesRead === 3 * mps, 'all three packets delivered without more data');
      assert.ok(Buffer.concat(chunks).equals(data));
      await destroyed(reader);
    }));

  it('delivers bytes in order across many outstanding reads and short transfers', () =>
    withStack(backend, async (s) => {
      const reader = new BulkReader({ driver: s.driver, link: s.link, out: BULK_OUT, readsOutstanding: 8, readSize: 8192 });
      const got = createHash('sha256');
      let length = 0;
      reader.on('data', (chunk: Buffer) => {
        got.update(chunk);
        length += chunk.length;
      });
      const sent = createHash('sha256');
      let sentLength = 0;
      for (let i = 0; i < 200; i++) {
        const bytes = Buffer.alloc(1 + ((i * 7919) % 20_000), i);
        sent.update(bytes);
        sentLength += bytes.length;
        await s.host.bulkOut(BULK_OUT, bytes, { zlp: true });
      }
      await until(() => length === sentLength, 'delivery');
      assert.is(got.digest('hex'), sent.digest('hex'));
      await destroyed(reader);
    }));

  it('stops re-issuing reads while the readable side is full: the host waits (NAK), memory stays bounded', () =>
    withStack(backend, async (s) => {
      const pipeId = s.pipeId(BULK_OUT);
      const readSize = 16_384;
      const reader = new BulkReader({ driver: s.driver, link: s.link, out: BULK_OUT, readsOutstanding: 4, readSize, readableHighWaterMark: 65_536 });
      reader.pause();
      reader.read(0); // ask once, then consume nothing
      const data = Buffer.alloc(1 << 20, 0xa5);
      let hostDone = false;
      const sending = s.host.bulkOut(BULK_OUT, data).then(() => (hostDone = true));
      sending.catch(() => undefined); // awaited below; a failed assertion must not leave it unhandled
      // Wait for the readable side to fill and the pipe to go quiet (a count of turns is no bound
      // on the koffi path, and reads issued while there was room are still legitimately on their
      // way), then give the pipe many more turns to (wrongly) issue a read.
      let lastActivity = Date.now();
      const onActivity = () => (lastActivity = Date.now());
      s.device.on('ioctl', onActivity).on('complete', onActivity);
      await until(
        () => reader.readableLength >= 65_536 && s.device.pending({ code: TRANSFER_OUT, pipeId }) === 0 && Date.now() - lastActivity > 50,
        'the readable side to fill and the pipe to go quiet',
      );
      s.device.off('ioctl', onActivity).off('complete', onActivity);
      for (let i = 0; i < 200; i++) await turn();
      assert.is(s.device.pending({ code: TRANSFER_OUT, pipeId }), 0, 'no read outstanding while full');
      assert.not.ok(hostDone, 'the host is still waiting: its packets are NAKed');
      assert.ok(reader.readableLength <= 65_536 + 4 * readSize, `buffered ${reader.readableLength}`);
      assert.is(reader.stats.poolInUse, 0);
      let total = 0;
      reader.on('data', (c: Buffer) => (total += c.length));
      reader.resume();
      await sending;
      await until(() => total === data.length, 'everything after resuming');
      await destroyed(reader);
    }));

  it('a slow consumer reads 100 MiB with pool, pending reads and readable buffer bounded', () =>
    withStack(backend, async (s) => {
      const pipeId = s.pipeId(BULK_OUT);
      const n = 4;
      const readSize = 256 * 1024;
      const reader = new BulkReader({ driver: s.driver, link: s.link, out: BULK_OUT, readsOutstanding: n, readSize });
      const bound = reader.readableHighWaterMark + n * readSize;
      const peak = { buffered: 0, pending: 0, pool: 0 };
      const sample = () => {
        peak.buffered = Math.max(peak.buffered, reader.readableLength);
        peak.pending = Math.max(peak.pending, s.device.pending({ code: TRANSFER_OUT, pipeId }));
        peak.pool = Math.max(peak.pool, reader.stats.poolInUse);
      };
      const received = createHash('sha256');
      let total = 0;
      const consuming = new Promise<void>((resolve) => {
        reader.on('data', (chunk: Buffer) => {
          received.update(chunk);
          total += chunk.length;
          sample();
          if (total === 100 << 20) return resolve();
          reader.pause(); // a few event-loop turns per 256 KiB chunk: slower than the host
          void turn().then(turn).then(turn).then(() => reader.resume());
        });
      });
      const sent = await hostSendHash(s, 100, 1 << 20, sample); // sampled as each block goes out
      await consuming;
      assert.is(received.digest('hex'), sent);
      assert.ok(peak.buffered <= bound, `readable buffer peaked at ${peak.buffered} > ${bound}`);
      assert.ok(peak.pending <= n, `pending reads peaked at ${peak.pending}`);
      assert.ok(peak.pool <= n, `pool in use peaked at ${peak.pool}`);
      assert.ok(peak.buffered >= reader.readableHighWaterMark, `the consumer really was the bottleneck: ${JSON.stringify(peak)}`);
      assert.is(reader.stats.poolAllocations, 1);
      await destroyed(reader);
    }), ['bulk-volume']);

  for (const readBuffers of ['copy', 'swap'] as const) {
    it(`readBuffers '${readBuffers}': chunks a consumer keeps stay intact while the pool goes on reading`, () =>
      withStack(backend, async (s) => {
        const readSize = 4096;
        const reader = new BulkReader({ driver: s.driver, link: s.link, out: BULK_OUT, readsOutstanding: 2, readSize, readBuffers });
        const kept: Buffer[] = [];
        reader.on('data', (c: Buffer) => kept.push(c));
        const sent: Buffer[] = [];
        for (let i = 0; i < 40; i++) {
          const bytes = Buffer.alloc(i % 3 === 0 ? 100 : readSize, i); // short reads are copied even with 'swap'
          sent.push(bytes);
          await s.host.bulkOut(BULK_OUT, bytes);
        }
        await until(() => kept.length === 40, '40 chunks');
        assert.equal(Buffer.concat(kept), Buffer.concat(sent), 'no kept chunk was overwritten by a later read');
        assert.ok(reader.stats.poolInUse <= 2);
        const swapped = sent.filter((b) => b.length === readSize).length;
        assert.is(reader.stats.poolAllocations, readBuffers === 'copy' ? 1 : 1 + swapped, 'copy: one slab; swap: a replacement per full read');
        await destroyed(reader);
      }));
  }

  it('pushes the whole packets a bus-cancelled read had received (the host saw them ACKed)', () =>
    withStack(backend, async (s) => {
      const reader = new BulkReader({ driver: s.driver, link: s.link, out: BULK_OUT, readsOutstanding: 1, readSize: 8192 });
      const chunks: Buffer[] = [];
      reader.on('data', (c: Buffer) => chunks.push(c));
      await until(() => reader.stats.readsPending === 1, 'a read pending');
      await s.host.bulkOut(BULK_OUT, Buffer.alloc(1024, 1)); // two whole packets, no short one: the read stays pending
      s.host.reset('high');
      s.host.configure(1);
      await until(() => reader.stats.readsCancelled === 1 && reader.stats.readsPending === 1, 'the read re-issued');
      await s.host.bulkOut(BULK_OUT, Buffer.alloc(10, 2));
      await until(() => reader.stats.bytesRead === 1034, 'both parts');
      assert.equal(Buffer.concat(chunks), Buffer.concat([Buffer.alloc(1024, 1), Buffer.alloc(10, 2)]));
      await destroyed(reader);
    }), ['data-with-error-completion']);
});

test("readSize 'packet' on a pipe whose packet exceeds the read buffer: INVALID_ARG that says so (not 'not a multiple')", async () => {
  // wMaxPacketSize bits 0-10 reach 2047: a driver may report more than the 1024-byte packet buffer.
  const pipe = { pipeId: 1, endpointAddress: BULK_OUT, direction: 'out', endpointNumber: 1, type: 'bulk', maxPacketSize: 2047, interval: 0 } as PipeInfo;
  const speed = { interfaceNumber: 0, pipes: [pipe] };
  const link = new BusLink({ interfaceName: 'test', interfaceGuid: null, full: speed, high: speed, super: speed } as ClassInfo);
  link.handle({ type: 'reset', speed: 'high' });
  link.handle({ type: 'configured', configurationValue: 1 });
  const driver = {} as UsbFnDriver; // never reached: the configuration is refused first
  const reader = new BulkReader({ driver, link, out: BULK_OUT, readSize: 'packet' });
  const err = await new Promise<{ code?: string; message: string }>((resolve) => reader.once('error', resolve));
  assert.is(err.code, 'USBFN_ERR_INVALID_ARG');
  assert.ok(!/multiple/.test(err.message), err.message);
  assert.match(err.message, /2047.*larger than the 1024-byte read buffer/);
});

test.run();
