/**
 * pipe() and stream.pipeline() into and out of other streams, with backpressure end to end and a
 * checksum over 64 MiB each way; `for await` over a reader.
 */
import { createHash } from 'node:crypto';
import { Readable as NodeReadable, Writable as NodeWritable, PassThrough } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BulkPipe, BulkReader, BulkWriter } from '../../lib/stream/bulk-pipe.js';
import type { UsbFnDriver } from '../../lib/driver/driver.js';
import { BULK_IN, BULK_OUT, destroyed, forEachBackend, hostReadHash, hostSendHash, patternBytes, withStack } from './helpers.js';

const MiB = 1 << 20;

/** A Writable that hashes what it gets, taking a turn now and then (a consumer slower than memcpy). */
function hashingSink(): { sink: NodeWritable; digest: () => string; length: () => number } {
  const hash = createHash('sha256');
  let length = 0;
  let writes = 0;
  const sink = new NodeWritable({
    highWaterMark: 256 * 1024,
    write(chunk: Buffer, _enc, callback) {
      hash.update(chunk);
      length += chunk.length;
      if (++writes % 16 === 0) setImmediate(callback);
      else callback();
    },
  });
  return { sink, digest: () => hash.digest('hex'), length: () => length };
}

/** 64 distinct 1 MiB blocks from a generator, and their hash. */
function blockSource(blocks: number): { source: NodeReadable; digest: string } {
  const hash = createHash('sha256');
  const make = (i: number) => {
    const block = patternBytes(MiB, i + 1);
    return block;
  };
  for (let i = 0; i < blocks; i++) hash.update(make(i));
  const source = NodeReadable.from((function* () {
    for (let i = 0; i < blocks; i++) yield make(i);
  })(), { objectMode: false });
  return { source, digest: hash.digest('hex') };
}

forEachBackend((backend, it) => {
  it('pipeline(BulkReader, sink): 64 MiB host-to-device, checksum equal', () =>
    withStack(backend, async (s) => {
      const reader = new BulkReader({ driver: s.driver, link: s.link, out: BULK_OUT, readSize: 256 * 1024 });
      const { sink, digest, length } = hashingSink();
      const done = pipeline(reader, sink);
      const sent = await hostSendHash(s, 64);
      while (length() < 64 * MiB) await new Promise((r) => setImmediate(r));
      assert.is(digest(), sent);
      reader.destroy(); // a device reader never ends by itself
      await done.catch((err: { code?: string }) => assert.is(err.code, 'ERR_STREAM_PREMATURE_CLOSE'));
      assert.is(reader.stats.poolInUse, 0);
    }), ['bulk-volume']);

  it('pipeline(source, BulkWriter): 64 MiB device-to-host, checksum equal, finish after the last transfer', () =>
    withStack(backend, async (s) => {
      const writer = new BulkWriter({ driver: s.driver, link: s.link, in: BULK_IN });
      const { source, digest } = blockSource(64);
      const done = pipeline(source, writer);
      const received = await hostReadHash(s, 64 * MiB);
      await done;
      assert.is(received, digest);
      assert.is(writer.stats.writesPending, 0);
      assert.is(writer.stats.bytesWritten, 64 * MiB);
    }), ['bulk-volume']);

  it('a driver with promises only (no openTransfer, as FunctionFS): the pipes use transferIn/transferOut, echo of 8 MiB checksum equal', () =>
    withStack(backend, async (s) => {
      const d = s.driver;
      const calls = { in: 0, out: 0 };
      const promisesOnly = {
        transferIn: (...a: Parameters<UsbFnDriver['transferIn']>) => (calls.in++, d.transferIn(...a)),
        transferOut: (...a: Parameters<UsbFnDriver['transferOut']>) => (calls.out++, d.transferOut(...a)),
        getPipeState: d.getPipeState.bind(d),
        setPipeState: d.setPipeState.bind(d),
      } as unknown as UsbFnDriver;
      const pipe = new BulkPipe({ driver: promisesOnly, link: s.link, out: BULK_OUT, in: BULK_IN, readSize: 64 * 1024 });
      pipe.pipe(new PassThrough()).pipe(pipe);
      const [sent, received] = await Promise.all([hostSendHash(s, 8), hostReadHash(s, 8 * MiB)]);
      assert.is(received, sent);
      assert.ok(calls.in > 0 && calls.out > 0, `transferIn ${calls.in}, transferOut ${calls.out}`);
      await destroyed(pipe);
      assert.equal([pipe.stats.readsPending, pipe.stats.writesPending, pipe.stats.poolInUse], [0, 0, 0]);
    }));

  it('pipe(): a Duplex echo of 64 MiB through a PassThrough, checksum equal both ways', () =>
    withStack(backend, async (s) => {
      const pipe = new BulkPipe({ driver: s.driver, link: s.link, out: BULK_OUT, in: BULK_IN, readSize: 256 * 1024 });
      pipe.pipe(new PassThrough()).pipe(pipe);
      const [sent, received] = await Promise.all([hostSendHash(s, 64), hostReadHash(s, 64 * MiB)]);
      assert.is(received, sent);
      await destroyed(pipe);
      assert.equal([pipe.stats.readsPending, pipe.stats.writesPending, pipe.stats.poolInUse], [0, 0, 0]);
    }), ['bulk-volume']);

  it('pipeline(pipe, transform, pipe): the echo with a transform in between', () =>
    withStack(backend, async (s) => {
      const pipe = new BulkPipe({ driver: s.driver, link: s.link, out: BULK_OUT, in: BULK_IN });
      const invert = new PassThrough({
        transform(chunk: Buffer, _enc, callback) {
          for (let i = 0; i < chunk.length; i++) chunk[i] ^= 0xff;
          callback(null, chunk);
        },
      });
      const done = pipeline(pipe, invert, pipe).catch((e: Error) => e);
      const data = patternBytes(4 * MiB, 3);
      const expected = Buffer.from(data.map((b) => b ^ 0xff));
      const [, back] = await Promise.all([s.host.bulkOut(BULK_OUT, data), hostReadHash(s, data.length)]);
      assert.is(back, createHash('sha256').update(expected).digest('hex'));
      pipe.destroy();
      await done;
    }));

  it('for await over a BulkReader yields every byte in order', () =>
    withStack(backend, async (s) => {
      const reader = new BulkReader({ driver: s.driver, link: s.link, out: BULK_OUT });
      const hash = createHash('sha256');
      let total = 0;
      const consuming = (async () => {
        for await (const chunk of reader) {
          hash.update(chunk as Buffer);
          total += (chunk as Buffer).length;
          if (total === 16 * MiB) break; // break destroys the reader
        }
      })();
      const sent = await hostSendHash(s, 16);
      await consuming;
      assert.is(hash.digest('hex'), sent);
      assert.ok(reader.destroyed);
      await destroyed(reader);
      assert.is(reader.stats.readsPending, 0);
    }));
});

test.run();
