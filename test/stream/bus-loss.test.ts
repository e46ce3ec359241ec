/**
 * Bus life: a reset, unconfigure or detach mid-stream cancels transfers without erroring the
 * stream; it resumes on 'configured' with every byte delivered exactly once (checksums over the
 * whole run); cancelled writes are re-sent once each, in order, or fail with cancelledWrites
 * 'fail'; onBusLoss 'end' / 'destroy' on detach.
 */
import { createHash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { Readable as NodeReadable } from 'node:stream';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BulkPipe, BulkReader, BulkWriter } from '../../lib/stream/bulk-pipe.js';
import { isUsbFnError } from '../../lib/errors.js';
import {
  BULK_IN, BULK_OUT, TRANSFER_IN, TRANSFER_IN_ZLP, TRANSFER_OUT, destroyed, forEachBackend, openStack, patternBytes, turn, until, withStack, type StreamStack,
} from './helpers.js';

type Loss = 'reset' | 'unconfigure' | 'detach';

/** Takes the bus down and brings it back (the device sees the events in order). */
async function bounce(s: StreamStack, loss: Loss): Promise<void> {
  if (loss === 'reset') s.host.reset('high');
  if (loss === 'unconfigure') s.host.unconfigure();
  if (loss === 'detach') s.host.detach();
  await until(() => !s.link.configured, 'the link to go down');
  if (loss === 'detach') await s.host.enumerate({ speed: 'high' });
  else s.host.configure(1);
  await s.configured();
}

/** Host reads, retrying one the bus cancelled; each read ends at one device write (ZLP). */
async function hostReadWrites(s: StreamStack, count: number, each?: (i: number) => Promise<void>): Promise<string> {
  const hash = createHash('sha256');
  let retries = 0;
  for (let i = 0; i < count; ) {
    try {
      hash.update(await s.host.bulkIn(BULK_IN, (1 << 20) + 512));
    } catch (err) {
      // Cancelled by the bus going down under it: the device sends that write again.
      if (!isUsbFnError(err) || ++retries > 1000) throw err;
      await until(() => s.host.state === 'configured', 'the host to configure the device again');
      continue;
    }
    await each?.(i);
    i++;
  }
  return hash.digest('hex');
}

forEachBackend((backend, it) => {
  for (const loss of ['reset', 'unconfigure', 'detach'] as Loss[]) {
    it(`reading through a ${loss} mid-stream: no error, resumes, byte-exact (reads completed just before it delivered once)`, () =>
      withStack(backend, async (s) => {
        const readSize = 64 * 1024;
        const reader = new BulkReader({ driver: s.driver, link: s.link, out: BULK_OUT, readsOutstanding: 4, readSize });
        reader.on('error', (e) => assert.unreachable(`stream error: ${e}`));
        const received = createHash('sha256');
        let total = 0;
        reader.on('data', (c: Buffer) => (received.update(c), (total += c.length)));
        const sent = createHash('sha256');
        const block = patternBytes(3 * readSize, 5);
        for (let i = 0; i < 48; i++) {
          block.writeUInt32LE(i, 0);
          if (i % 8 === 7) {
            // Three reads complete in this very tick, the fourth is still pending when the bus drops.
            await until(() => s.device.pending({ code: TRANSFER_OUT, pipeId: s.pipeId(BULK_OUT) }) === 4, 'reads at the device');
            const sending = s.host.bulkOut(BULK_OUT, block).then(() => 'sent', (e: Error) => e);
            await bounce(s, loss);
            assert.is(await sending, 'sent', 'the block went into the three reads before the bus dropped');
          } else {
            await s.host.bulkOut(BULK_OUT, block);
          }
          sent.update(block);
        }
        await until(() => total === 48 * block.length, 'every byte');
        assert.is(received.digest('hex'), sent.digest('hex'));
        assert.ok(reader.stats.readsCancelled >= 6, `reads cancelled: ${reader.stats.readsCancelled}`);
        await destroyed(reader);
      }));

    it(`writing through a ${loss} mid-stream: cancelled writes re-sent once each, in order, byte-exact`, () =>
      withStack(backend, async (s) => {
        const pipeId = s.pipeId(BULK_IN);
        let transfersIn = 0;
        s.device.on('ioctl', (i) => (i.code === TRANSFER_IN || i.code === TRANSFER_IN_ZLP) && i.pipeId === pipeId && transfersIn++);
        const writer = new BulkWriter({ driver: s.driver, link: s.link, in: BULK_IN, writesInFlight: 8 });
        const blocks = 40;
        const expected = createHash('sha256');
        const source = NodeReadable.from((function* () {
          for (let i = 0; i < blocks; i++) {
            const b = patternBytes(256 * 1024, i + 1);
            expected.update(b);
            yield b;
          }
        })(), { objectMode: false });
        const done = pipeline(source, writer);
        const received = await hostReadWrites(s, blocks, async (i) => {
          if (i % 10 === 3) await bounce(s, loss);
        });
        await done;
        assert.is(received, expected.digest('hex'));
        for (let i = 0; i < 20; i++) await turn();
        assert.ok(writer.stats.writesResent > 0, 'some writes were in flight when the bus dropped');
        assert.is(transfersIn, blocks + writer.stats.writesResent, 'each write issued once, plus one re-send per cancellation');
        assert.is(s.device.pending({ code: TRANSFER_IN }) + s.device.pending({ code: TRANSFER_IN_ZLP }), 0);
      }));
  }

  it('an echo keeps a byte-exact checksum through resets in both directions', () =>
    withStack(backend, async (s) => {
      const pipe = new BulkPipe({ driver: s.driver, link: s.link, out: BULK_OUT, in: BULK_IN, readSize: 64 * 1024 });
      pipe.pipe(pipe);
      const sent = createHash('sha256');
      const block = patternBytes(128 * 1024, 9); // two 64 KiB reads, each echoed as a 64 KiB write (+ZLP)
      const reading = hostReadWrites(s, 2 * 24);
      for (let i = 0; i < 24; i++) {
        block.writeUInt32LE(i, 0);
        await s.host.bulkOut(BULK_OUT, block);
        sent.update(block);
        if (i % 6 === 5) await bounce(s, 'reset');
      }
      assert.is(await reading, sent.digest('hex'));
      await destroyed(pipe);
    }));

  it("cancelledWrites 'fail': a write cancelled by a reset fails the stream with USBFN_ERR_CANCELED", () =>
    withStack(backend, async (s) => {
      const writer = new BulkWriter({ driver: s.driver, link: s.link, in: BULK_IN, cancelledWrites: 'fail' });
      const failed = new Promise<Error>((resolve) => writer.on('error', resolve));
      writer.write(Buffer.alloc(1000));
      await until(() => writer.stats.writesPending === 1, 'in flight');
      s.host.reset('high');
      const err = await failed;
      assert.is((err as { code?: string }).code, 'USBFN_ERR_CANCELED');
      await until(() => writer.closed, 'closed');
      assert.is(writer.stats.writesPending, 0);
    }));

  it('a pipe created before configuration waits for it, then starts', async () => {
    const s = await openStack(backend, undefined, null);
    try {
      const pipe = new BulkPipe({ driver: s.driver, link: s.link, out: BULK_OUT, in: BULK_IN });
      pipe.write(Buffer.from('early'));
      pipe.resume();
      for (let i = 0; i < 20; i++) await turn();
      assert.is(pipe.stats.readsPending + pipe.stats.writesPending, 0, 'nothing issued before Configured');
      await s.host.enumerate({ speed: 'high' });
      assert.is(Buffer.from(await s.host.bulkIn(BULK_IN, 512)).toString(), 'early');
      await until(() => pipe.stats.readsPending > 0, 'reads issued');
      await destroyed(pipe);
    } finally {
      await s.close();
    }
  });

  it("onBusLoss 'end': on detach the reader delivers what it has, then ends", () =>
    withStack(backend, async (s) => {
      const reader = new BulkReader({ driver: s.driver, link: s.link, out: BULK_OUT, onBusLoss: 'end' });
      const chunks: Buffer[] = [];
      reader.on('data', (c: Buffer) => chunks.push(c));
      const ended = new Promise((resolve) => reader.on('end', resolve));
      await s.host.bulkOut(BULK_OUT, Buffer.from('last words'));
      s.host.detach();
      await ended;
      assert.is(Buffer.concat(chunks).toString(), 'last words');
      await until(() => reader.closed, 'auto-destroyed after end');
      assert.equal([reader.stats.readsPending, reader.stats.poolInUse], [0, 0]);
    }));

  it("onBusLoss 'end': a writer's undelivered writes are dropped and counted, their writeTransfer() rejects DISCONNECTED, no 'error'", () =>
    withStack(backend, async (s) => {
      // Issue 11 / issue 7 changed this contract: it used to destroy a busy writer with 'error'.
      const idle = new BulkWriter({ driver: s.driver, link: s.link, in: BULK_IN, onBusLoss: 'end' });
      let idleError: Error | null = null;
      idle.on('error', (e) => (idleError = e));
      const busy = new BulkWriter({ driver: s.driver, link: s.link, in: 0x81, onBusLoss: 'end' });
      let busyError: Error | null = null;
      busy.on('error', (e) => (busyError = e));
      const dropped = busy.writeTransfer(Buffer.alloc(100)).then(() => 'sent', (e: { code?: string }) => e.code);
      await until(() => busy.stats.writesPending === 1, 'in flight');
      s.host.detach();
      assert.is(await dropped, 'USBFN_ERR_DISCONNECTED');
      await until(() => busy.closed && idle.closed, 'both writers closed');
      assert.equal([busyError, idleError], [null, null]);
      assert.equal([busy.stats.writesDropped, idle.stats.writesDropped], [1, 0]);
      const later = await new Promise<Error | null | undefined>((resolve) => idle.write(Buffer.alloc(1), resolve));
      assert.is((later as { code?: string }).code, 'ERR_STREAM_DESTROYED', 'a write after the detach fails its callback only');
    }));

  it("onBusLoss 'destroy': detach destroys the stream with USBFN_ERR_DISCONNECTED and releases everything", () =>
    withStack(backend, async (s) => {
      const pipe = new BulkPipe({ driver: s.driver, link: s.link, out: BULK_OUT, in: BULK_IN, onBusLoss: 'destroy' });
      const failed = new Promise<Error>((resolve) => pipe.on('error', resolve));
      pipe.resume();
      pipe.write(Buffer.alloc(100));
      await until(() => pipe.stats.readsPending === 4 && pipe.stats.writesPending === 1, 'in flight');
      s.host.detach();
      assert.is(((await failed) as { code?: string }).code, 'USBFN_ERR_DISCONNECTED');
      await until(() => pipe.closed, 'closed');
      assert.equal([pipe.stats.readsPending, pipe.stats.writesPending, pipe.stats.poolInUse], [0, 0, 0]);
    }));

  it('a reset to full speed resumes with the new wMaxPacketSize (ZLP after 64-byte multiples)', () =>
    withStack(backend, async (s) => {
      const writer = new BulkWriter({ driver: s.driver, link: s.link, in: BULK_IN });
      s.host.reset('full');
      s.host.configure(1);
      await until(() => s.link.speed === 'full' && s.link.configured, 'full speed');
      writer.write(Buffer.alloc(64));
      writer.write(Buffer.alloc(3));
      assert.is((await s.host.bulkIn(BULK_IN, 4096)).length, 64);
      assert.is((await s.host.bulkIn(BULK_IN, 4096)).length, 3);
      await destroyed(writer);
    }));
});

test.run();
