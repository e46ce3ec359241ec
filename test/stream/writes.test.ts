/**
 * The writable side: the ZLP policy at lengths 0, mps, k·mps and mps+1 as the host's bulkIn sees
 * it, per-write overrides, one TRANSFER_IN per write (never merged), M transfers in flight with
 * early acknowledgement, and the failure of an early-acknowledged write surfacing as 'error'.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BulkWriter, BulkPipe } from '../../lib/stream/bulk-pipe.js';
import { BULK_PIPE_DEFAULTS } from '../../lib/stream/bulk-pipe-options.js';
import { ERROR_NOT_SUPPORTED } from '../../native-defs/win32-errors.js';
import { BULK_IN, TRANSFER_IN, TRANSFER_IN_ZLP, destroyed, forEachBackend, patternBytes, until, withStack, type StreamStack } from './helpers.js';

/** Names of the TRANSFER_IN ioctls issued on the IN pipe, in order. */
function recordTransfersIn(s: StreamStack): string[] {
  const pipeId = s.pipeId(BULK_IN);
  const seen: string[] = [];
  s.device.on('ioctl', (i) => (i.code === TRANSFER_IN || i.code === TRANSFER_IN_ZLP) && i.pipeId === pipeId && seen.push(`${i.name}:${i.length}`));
  return seen;
}

/** The lengths of the host's next `count` reads of up to `max` bytes each. */
async function hostReads(s: StreamStack, count: number, max = 1 << 16): Promise<number[]> {
  const lengths: number[] = [];
  for (let i = 0; i < count; i++) lengths.push((await s.host.bulkIn(BULK_IN, max)).length);
  return lengths;
}

forEachBackend((backend, it) => {
  const cases: Array<[string, number, boolean]> = [
    ['0 (a lone ZLP)', 0, true],
    ['mps', 512, true],
    ['k·mps', 3 * 512, true],
    ['mps+1', 513, false],
  ];
  for (const [label, length, endsWithZlp] of cases) {
    it(`zlp 'auto': a write of ${label} bytes ${endsWithZlp ? 'ends with a ZLP' : 'ends on its short packet, no ZLP'}`, () =>
      withStack(backend, async (s) => {
        const seen = recordTransfersIn(s);
        const writer = new BulkWriter({ driver: s.driver, link: s.link, in: BULK_IN });
        writer.write(patternBytes(length));
        writer.write(Buffer.alloc(100, 1)); // a short follower: a ZLP in between would show as its own read
        assert.equal(await hostReads(s, 2), [length, 100], 'the host read ends exactly at the write');
        assert.equal(seen, [`${endsWithZlp ? 'TRANSFER_IN_APPEND_ZERO_PKT' : 'TRANSFER_IN'}:${length}`, 'TRANSFER_IN:100']);
        await destroyed(writer);
      }));
  }

  it("zlp 'auto' follows the speed's wMaxPacketSize (64 at full speed)", () =>
    withStack(backend, async (s) => {
      const writer = new BulkWriter({ driver: s.driver, link: s.link, in: BULK_IN });
      writer.write(Buffer.alloc(64));
      writer.write(Buffer.alloc(128));
      writer.write(Buffer.alloc(512)); // a multiple of 64 too: a ZLP at full speed
      writer.write(Buffer.alloc(65));
      assert.equal(await hostReads(s, 4), [64, 128, 512, 65], 'each multiple of 64 ends with a ZLP');
      await destroyed(writer);
    }, undefined, 'full'));

  it("zlp 'never': no ZLP, so mps-multiple writes run into the next; an empty write sends nothing", () =>
    withStack(backend, async (s) => {
      const seen = recordTransfersIn(s);
      const writer = new BulkWriter({ driver: s.driver, link: s.link, in: BULK_IN, zlp: 'never' });
      writer.write(Buffer.alloc(512));
      writer.write(Buffer.alloc(0));
      writer.write(Buffer.alloc(1024));
      writer.write(Buffer.alloc(3));
      assert.equal(await hostReads(s, 1), [512 + 1024 + 3]);
      assert.equal(seen, ['TRANSFER_IN:512', 'TRANSFER_IN:1024', 'TRANSFER_IN:3']);
      await destroyed(writer);
    }));

  it('writeTransfer(data, { zlp }) overrides the policy for one write and resolves when the host took it', () =>
    withStack(backend, async (s) => {
      const writer = new BulkWriter({ driver: s.driver, link: s.link, in: BULK_IN });
      const noZlp = writer.writeTransfer(Buffer.alloc(512, 1), { zlp: false });
      const withZlp = writer.writeTransfer(Buffer.alloc(1024, 2), { zlp: true });
      writer.write(Buffer.alloc(10, 3));
      assert.equal(await hostReads(s, 2), [512 + 1024, 10]);
      assert.is(await noZlp, 512);
      assert.is(await withZlp, 1024);
      const never = new BulkWriter({ driver: s.driver, link: s.link, in: BULK_IN, zlp: 'never' });
      const forced = never.writeTransfer(new Uint8Array(512), { zlp: true });
      assert.equal(await hostReads(s, 1), [512], "zlp: true beats 'never'");
      assert.is(await forced, 512);
      await Promise.all([destroyed(writer), destroyed(never)]);
    }));

  it('never merges writes: one TRANSFER_IN per chunk, even when many are buffered', () =>
    withStack(backend, async (s) => {
      const seen = recordTransfersIn(s);
      const writer = new BulkWriter({ driver: s.driver, link: s.link, in: BULK_IN, zlp: 'never', writesInFlight: 2 });
      for (let i = 0; i < 20; i++) writer.write(Buffer.alloc(10, i));
      const data = await s.host.bulkIn(BULK_IN, 4096, { timeoutMs: 2000 }).then(async (first) => {
        const parts = [first];
        let got = first.length;
        while (got < 200) {
          const part = await s.host.bulkIn(BULK_IN, 4096);
          parts.push(part);
          got += part.length;
        }
        return Buffer.concat(parts);
      });
      assert.is(data.length, 200);
      assert.is(seen.length, 20);
      assert.ok(seen.every((x) => x === 'TRANSFER_IN:10'));
      await destroyed(writer);
    }));

  for (const m of [1, 4, 8]) {
    it(`keeps writesInFlight = ${m} TRANSFER_IN in flight, acknowledging writes early`, () =>
      withStack(backend, async (s) => {
        const pipeId = s.pipeId(BULK_IN);
        const writer = new BulkWriter({ driver: s.driver, link: s.link, in: BULK_IN, writesInFlight: m, writableHighWaterMark: 1 });
        let acked = 0;
        for (let i = 0; i < 20; i++) writer.write(Buffer.alloc(1000), () => acked++);
        await until(() => s.device.pending({ code: TRANSFER_IN, pipeId }) === m, `${m} pending`);
        await until(() => acked === m, `${m} acknowledged`);
        for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
        assert.is(s.device.pending({ code: TRANSFER_IN, pipeId }), m, 'no more than M in flight');
        assert.is(acked, m, 'writes past the window wait for a completion');
        const lengths = await hostReads(s, 20, 1000);
        assert.equal(lengths, Array(20).fill(1000));
        await until(() => acked === 20, 'all acknowledged');
        await destroyed(writer);
      }));
  }

  it('by default write() asks to wait once writesInFlight transfers are in flight and as many more wait: memory stays bounded when the host reads nothing', () =>
    withStack(backend, async (s) => {
      const pipeId = s.pipeId(BULK_IN);
      const readSize = 4096;
      const m = BULK_PIPE_DEFAULTS.writesInFlight;
      const writer = new BulkWriter({ driver: s.driver, link: s.link, in: BULK_IN, readSize, zlp: 'never' });
      let accepted = 1; // the write that returns false is taken too
      while (writer.write(Buffer.alloc(readSize)) && accepted < 100) accepted++;
      assert.is(accepted, 2 * m, 'writesInFlight in flight, then writesInFlight × readSize bytes waiting');
      await until(() => s.device.pending({ code: TRANSFER_IN, pipeId }) === m, `${m} in flight`);
      assert.is(writer.writableLength, m * readSize, 'what waits is bounded by the high-water mark');
      const drained = new Promise((resolve) => writer.once('drain', resolve));
      assert.equal(await hostReads(s, 2 * m, readSize), Array(2 * m).fill(readSize));
      await drained;
      await destroyed(writer);
    }));

  it("the failure of an early-acknowledged write surfaces as 'error', to end()'s callback and to a waiting writeTransfer", () =>
    withStack(backend, async (s) => {
      s.device.injectFault({ code: TRANSFER_IN, pipeId: s.pipeId(BULK_IN), errno: ERROR_NOT_SUPPORTED });
      const writer = new BulkWriter({ driver: s.driver, link: s.link, in: BULK_IN, zlp: 'never' });
      let acked = false;
      writer.write(Buffer.alloc(10), (err) => (acked = !err));
      const errored = new Promise<Error>((resolve) => writer.on('error', resolve));
      const later = writer.writeTransfer(Buffer.alloc(10)).catch((e: Error) => e);
      assert.is((await errored as { code?: string }).code, 'USBFN_ERR_NOT_SUPPORTED');
      assert.ok(acked, 'the first write was acknowledged early');
      assert.ok((await later) instanceof Error);
      await until(() => writer.closed, 'closed');
      assert.is(writer.stats.writesPending, 0);
    }));

  it('a Duplex writes and reads independently (half-open: ending the writable keeps the readable)', () =>
    withStack(backend, async (s) => {
      const pipe = new BulkPipe({ driver: s.driver, link: s.link, out: 0x01, in: BULK_IN });
      const finished = new Promise((resolve) => pipe.on('finish', resolve));
      pipe.end(Buffer.from('bye'));
      assert.equal(Buffer.from(await s.host.bulkIn(BULK_IN, 512)).toString(), 'bye');
      await finished;
      const chunk = new Promise<Buffer>((resolve) => pipe.once('data', resolve));
      await s.host.bulkOut(0x01, Buffer.from('still reading'));
      assert.is((await chunk).toString(), 'still reading');
      await destroyed(pipe);
    }));
});

test.run();
