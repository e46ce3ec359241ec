/**
 * AioRing / AioReaper against a ring the test lays out itself (the kernel's layout: a 32-byte
 * header, then io_events): which headers are refused, drain order across the wrap, head stored
 * before each taker runs, positions past the ring refused; then AioQueue on real AIO harvesting
 * from the kernel's ring with no io_getevents call, and through io_getevents when told.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AIO_RING_MAGIC, AIO_RING_WORD, aioRingEvents } from '../../native-defs/linux-aio.js';
import { AioRing } from '../../lib/driver/functionfs/aio-ring.js';
import type { LinuxFfi } from '../../lib/driver/functionfs/linux-ffi.js';

/** A ring of `size` events as the kernel lays it out, and an ffi whose view() returns it. */
function fakeRing(size: number, header: Partial<Record<keyof typeof AIO_RING_WORD, number>> = {}) {
  const memory = new ArrayBuffer(32 + size * 32);
  const words = new Uint32Array(memory, 0, 8);
  words[AIO_RING_WORD.nr] = size;
  words[AIO_RING_WORD.magic] = AIO_RING_MAGIC;
  words[AIO_RING_WORD.headerLength] = 32;
  for (const [k, v] of Object.entries(header)) words[AIO_RING_WORD[k as keyof typeof AIO_RING_WORD]] = v!;
  const events = new DataView(memory, 32);
  /** The kernel completing `data` with `res` at the tail. */
  const complete = (data: number, res: number) => {
    const at = words[AIO_RING_WORD.tail]! * 32;
    events.setUint32(at, data, true);
    events.setInt32(at + 16, res, true);
    events.setInt32(at + 20, res < 0 ? -1 : 0, true);
    words[AIO_RING_WORD.tail] = (words[AIO_RING_WORD.tail]! + 1) % size;
  };
  const ffi = { view: (_at: Uint8Array, bytes: number) => (bytes <= memory.byteLength ? memory : new ArrayBuffer(0)) } as unknown as LinuxFfi;
  return { words, complete, ffi };
}

test('a header of another layout is refused: the queue keeps io_getevents', () => {
  assert.ok(AioRing.map(fakeRing(4).ffi, Buffer.alloc(8)), 'the known layout');
  assert.is(AioRing.map(fakeRing(4, { magic: 0x12345678 }).ffi, Buffer.alloc(8)), null, 'magic');
  assert.is(AioRing.map(fakeRing(4, { incompatFeatures: 1 }).ffi, Buffer.alloc(8)), null, 'incompatible features');
  assert.is(AioRing.map(fakeRing(4, { headerLength: 64 }).ffi, Buffer.alloc(8)), null, 'header length');
  assert.is(AioRing.map(fakeRing(0).ffi, Buffer.alloc(8)), null, 'no events');
  const throwing = { view: () => { throw new Error('no foreign memory'); } } as unknown as LinuxFfi;
  assert.is(AioRing.map(throwing, Buffer.alloc(8)), null, 'a view that fails');
  assert.is(aioRingEvents(new Uint32Array(4)), 0, 'a short header');
});

test('drain hands events over oldest first across the wrap, storing head before each taker runs', () => {
  const r = fakeRing(4);
  const ring = AioRing.map(r.ffi, Buffer.alloc(8))!;
  const heard: Array<[number, number, number]> = [];
  const take = (data: number, res: number) => heard.push([data, res, r.words[AIO_RING_WORD.head]!]);
  r.complete(0, 512);
  r.complete(1, -108);
  r.complete(2, 0);
  assert.is(ring.drain(take), 3);
  assert.is(ring.drain(take), 0, 'nothing new');
  r.complete(3, 7);
  r.complete(4, 8); // wraps to slot 0
  assert.is(ring.drain(take), 2);
  assert.equal(heard, [[0, 512, 1], [1, -108, 2], [2, 0, 3], [3, 7, 0], [4, 8, 1]]);
});

test('a head or tail past the ring is not trusted: drain reports -1 and takes nothing', () => {
  const r = fakeRing(4);
  const ring = AioRing.map(r.ffi, Buffer.alloc(8))!;
  r.words[AIO_RING_WORD.tail] = 9;
  const heard: number[] = [];
  assert.is(ring.drain((data) => heard.push(data)), -1);
  assert.equal(heard, []);
});

const linux = process.platform === 'linux';
const t = (name: string, fn: () => Promise<void>) => (linux ? test(name, fn) : undefined);

t('AioQueue harvests real completions from the kernel\'s ring, with no io_getevents; completionRing false uses it', async () => {
  const { AioQueue } = await import('../../lib/driver/functionfs/aio.js');
  const { linuxFfi } = await import('../../lib/driver/functionfs/linux-ffi.js');
  const ffi = linuxFfi();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'usbfn-ring-'));
  const file = path.join(dir, 'data');
  fs.writeFileSync(file, 'ring or not');
  const fd = fs.openSync(file, 'r');
  const getEvents = ffi.ioGetEvents;
  let calls = 0;
  ffi.ioGetEvents = (...args) => (calls++, getEvents(...args));
  try {
    for (const [completionRing, expectCalls] of [[true, false], [false, true]] as const) {
      calls = 0;
      const q = new AioQueue({ depth: 4, completionRing });
      for (let round = 0; round < 40; round++) { // 160 completions: round the ring (127 events for this depth) and on
        const reads = Array.from({ length: 4 }, () => q.read(fd, Buffer.alloc(16), 'read'));
        assert.equal(await Promise.all(reads), [11, 11, 11, 11]);
      }
      await q.close();
      assert.is(calls > 0, expectCalls, `completionRing ${completionRing}: io_getevents calls ${calls}`);
    }
  } finally {
    ffi.ioGetEvents = getEvents;
    fs.closeSync(fd);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
