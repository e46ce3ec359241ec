/** AioQueue (Linux AIO + eventfd + koffi poll) against plain files and a non-blocking pipe. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import { EventEmitter } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { isUsbFnError } from '../../lib/errors.js';

const skip = process.platform !== 'linux' ? 'Linux AIO needs Linux' : null;
if (skip) console.log(`skipping AIO tests: ${skip}`);
const { AioQueue } = skip ? ({} as typeof import('../../lib/driver/functionfs/aio.js')) : await import('../../lib/driver/functionfs/aio.js');

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'usbfn-aio-'));
const fileWith = (text: string) => {
  const p = path.join(dir, `f${Math.random().toString(36).slice(2)}`);
  fs.writeFileSync(p, text);
  return fs.openSync(p, 'r+');
};

const t = (name: string, fn: () => Promise<void>) => (skip ? undefined : test(name, fn));

t('a read resolves with the bytes the kernel read into the caller\'s buffer', async () => {
  const q = new AioQueue({ depth: 4 });
  const fd = fileWith('hello aio');
  const buf = Buffer.alloc(32);
  assert.is(await q.read(fd, buf, 'read'), 9);
  assert.is(buf.toString('utf8', 0, 9), 'hello aio');
  await q.close();
  fs.closeSync(fd);
});

t('several requests in flight all complete, harvested from one eventfd', async () => {
  const q = new AioQueue({ depth: 8 });
  const fd = fileWith('0123456789');
  const bufs = [0, 1, 2, 3, 4, 5].map(() => Buffer.alloc(4));
  const counts = await Promise.all(bufs.map((b) => q.read(fd, b, 'read')));
  assert.equal(counts, [4, 4, 4, 4, 4, 4]);
  for (const b of bufs) assert.is(b.toString(), '0123');
  assert.is(q.pending, 0);
  await q.close();
  fs.closeSync(fd);
});

t('a write resolves with the byte count and a 0-byte write with 0', async () => {
  const q = new AioQueue({ depth: 4 });
  const fd = fileWith('');
  assert.is(await q.write(fd, Buffer.from('abc'), 'write'), 3);
  assert.is(await q.write(fd, new Uint8Array(0), 'zlp'), 0);
  assert.is(fs.readFileSync(`/proc/self/fd/${fd}`, 'utf8'), 'abc');
  await q.close();
  fs.closeSync(fd);
});

t('a failed request rejects with a coded error carrying errno and syscall', async () => {
  const q = new AioQueue({ depth: 4 });
  // An empty non-blocking pipe: the read completes with -EAGAIN (FunctionFS: endpoint not enabled).
  const [r, w] = pipeFds();
  const err = await q.read(r, Buffer.alloc(8), 'pipe read').then(() => null, (e: unknown) => e);
  assert.ok(isUsbFnError(err, 'USBFN_ERR_CANCELED'), String(err));
  assert.is((err as { errno: number }).errno, os.constants.errno.EAGAIN);
  assert.is((err as { syscall: string }).syscall, 'io_getevents');
  await q.close();
  fs.closeSync(r);
  fs.closeSync(w);
});

t('a bad fd rejects at submission with EBADF', async () => {
  const q = new AioQueue({ depth: 2 });
  const err = await q.read(987654, Buffer.alloc(8), 'bad').then(() => null, (e: unknown) => e);
  assert.ok(isUsbFnError(err, 'USBFN_ERR_DRIVER'), String(err));
  assert.is((err as { errno: number }).errno, os.constants.errno.EBADF);
  await q.close();
});

t('an aborted signal and a closed queue refuse before submitting', async () => {
  const q = new AioQueue({ depth: 2 });
  const fd = fileWith('x');
  const aborted = await q.read(fd, Buffer.alloc(1), 'r', AbortSignal.abort()).then(() => null, (e: unknown) => e);
  assert.ok(isUsbFnError(aborted, 'USBFN_ERR_CANCELED'));
  await q.close();
  const closed = await q.read(fd, Buffer.alloc(1), 'r').then(() => null, (e: unknown) => e);
  assert.ok(isUsbFnError(closed, 'USBFN_ERR_CLOSED'));
  fs.closeSync(fd);
});

t('requests made in one turn reach the kernel in one io_submit, in order', async () => {
  const { linuxFfi } = await import('../../lib/driver/functionfs/linux-ffi.js');
  const ffi = linuxFfi();
  const q = new AioQueue({ depth: 8 });
  const fd = fileWith('');
  const submit = ffi.ioSubmit;
  const counts: number[] = [];
  ffi.ioSubmit = (ctx, count, ptrs) => (counts.push(count), submit(ctx, count, ptrs));
  try {
    // Writes at offset 0, applied in order: each overwrites the start of the one before.
    const writes = ['aaaa', 'bbb', 'cc'].map((text) => q.write(fd, Buffer.from(text), 'write'));
    assert.equal(await Promise.all(writes), [4, 3, 2]);
  } finally {
    ffi.ioSubmit = submit;
  }
  assert.equal(counts, [3]);
  assert.is(fs.readFileSync(`/proc/self/fd/${fd}`, 'utf8'), 'ccba');
  await q.close();
  fs.closeSync(fd);
});

t('a request the kernel refuses inside a batch fails alone; the others complete', async () => {
  const q = new AioQueue({ depth: 8 });
  const fd = fileWith('0123');
  const results = await Promise.allSettled([
    q.read(fd, Buffer.alloc(4), 'first'),
    q.read(987654, Buffer.alloc(4), 'bad'),
    q.read(fd, Buffer.alloc(2), 'third'),
  ]);
  assert.equal(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
  assert.is((results[0] as PromiseFulfilledResult<number>).value, 4);
  assert.is((results[2] as PromiseFulfilledResult<number>).value, 2);
  const err = (results[1] as PromiseRejectedResult).reason;
  assert.ok(isUsbFnError(err, 'USBFN_ERR_DRIVER'), String(err));
  assert.is(err.errno, os.constants.errno.EBADF);
  assert.is(err.syscall, 'io_submit');
  assert.is(q.pending, 0);
  await q.close();
  fs.closeSync(fd);
});

t('aborting before the kernel saw a request drops it: nothing is read into the buffer', async () => {
  const q = new AioQueue({ depth: 4 });
  const fd = fileWith('data');
  const ac = new AbortController();
  const bufs = [Buffer.alloc(4), Buffer.alloc(4)];
  const reads = bufs.map((b) => q.read(fd, b, 'read', ac.signal).then(() => null, (e: unknown) => e));
  ac.abort(new Error('stop'));
  for (const err of await Promise.all(reads)) assert.ok(isUsbFnError(err, 'USBFN_ERR_CANCELED'), String(err));
  for (const b of bufs) assert.is(b.toString('hex'), '00000000');
  assert.is(q.pending, 0);
  await q.close();
  fs.closeSync(fd);
});

t('one abort listener per signal, however many requests it has covered', async () => {
  const q = new AioQueue({ depth: 4 });
  const fd = fileWith('x');
  const ac = new AbortController();
  for (let i = 0; i < 20; i++) assert.is(await q.read(fd, Buffer.alloc(1), 'read', ac.signal), 1);
  assert.is(EventEmitter.getEventListeners(ac.signal, 'abort').length, 1);
  await q.close();
  fs.closeSync(fd);
});

t('onMoved, while set, hears the fd of each request that succeeded, before its promise settles', async () => {
  const q = new AioQueue({ depth: 4 });
  const fd = fileWith('abc');
  const [r, w] = pipeFds(); // an empty non-blocking pipe: the read fails EAGAIN, nothing moved
  const heard: number[] = [];
  q.onMoved = (movedFd) => heard.push(movedFd);
  const read = q.read(fd, Buffer.alloc(3), 'read').then((n) => [n, [...heard]]);
  const failed = q.read(r, Buffer.alloc(3), 'empty').then(() => null, (e: unknown) => e);
  assert.equal(await read, [3, [fd]], 'heard at completion, before the caller');
  assert.ok(isUsbFnError(await failed, 'USBFN_ERR_CANCELED'));
  assert.equal(heard, [fd], 'a failed request moved nothing');
  q.onMoved = null;
  assert.is(await q.read(fd, Buffer.alloc(3), 'read'), 3);
  assert.equal(heard, [fd]);
  await q.close();
  for (const x of [fd, r, w]) fs.closeSync(x);
});

/** A TransferSink that records what it hears; `then` runs after each report (e.g. to submit again). */
function recordingSink(then: (heard: unknown[]) => void = () => undefined) {
  const heard: unknown[] = [];
  let wake: () => void = () => undefined;
  const sink = {
    heard,
    next: () => new Promise<void>((resolve) => (wake = resolve)),
    transferred(n: number) { heard.push(n); then(heard); wake(); },
    transferFailed(err: unknown) { heard.push(err); then(heard); wake(); },
  };
  return sink;
}

t('submitTo reports to its sink from the harvest, never from within the call; a refusal a microtask later', async () => {
  const { IOCB_CMD_PREAD } = await import('../../native-defs/linux-aio.js');
  const q = new AioQueue({ depth: 2 });
  const fd = fileWith('sink me');
  const buf = Buffer.alloc(16);
  const sink = recordingSink();
  const done = sink.next();
  q.submitTo(fd, IOCB_CMD_PREAD, buf, 'read', undefined, sink);
  assert.equal(sink.heard, [], 'not from within submitTo');
  await done;
  assert.equal(sink.heard, [7]);
  assert.is(buf.toString('utf8', 0, 7), 'sink me');
  const refused = recordingSink();
  const refusedDone = refused.next();
  q.submitTo(fd, IOCB_CMD_PREAD, buf, 'read', AbortSignal.abort(), refused);
  assert.equal(refused.heard, [], 'a refusal is not reported from within submitTo either');
  await refusedDone;
  assert.ok(isUsbFnError(refused.heard[0], 'USBFN_ERR_CANCELED'));
  assert.is(q.pending, 0);
  await q.close();
  fs.closeSync(fd);
});

t('submitTo: a sink may issue the next request from its report, into the slot just freed', async () => {
  const { IOCB_CMD_PWRITE } = await import('../../native-defs/linux-aio.js');
  const q = new AioQueue({ depth: 1 }); // one slot: every request reuses it
  const fd = fileWith('');
  const words = ['a', 'bb', 'ccc', 'dddd'];
  const sink = recordingSink((heard) => {
    if (heard.length < words.length) q.submitTo(fd, IOCB_CMD_PWRITE, Buffer.from(words[heard.length]!), 'write', undefined, sink);
  });
  const all = new Promise<void>((resolve) => {
    const poll = () => (sink.heard.length === words.length ? resolve() : setTimeout(poll, 5));
    poll();
  });
  q.submitTo(fd, IOCB_CMD_PWRITE, Buffer.from(words[0]!), 'write', undefined, sink);
  await all;
  assert.equal(sink.heard, [1, 2, 3, 4]);
  assert.is(q.pending, 0);
  await q.close();
  fs.closeSync(fd);
});

t('submitTo: a request issued from a report reaches the kernel when the harvest ends, before any microtask', async () => {
  const { IOCB_CMD_PWRITE } = await import('../../native-defs/linux-aio.js');
  const { linuxFfi } = await import('../../lib/driver/functionfs/linux-ffi.js');
  const ffi = linuxFfi();
  const q = new AioQueue({ depth: 2 });
  const fd = fileWith('');
  const submit = ffi.ioSubmit;
  let submitted = 0;
  let atMicrotask = -1;
  ffi.ioSubmit = (ctx, count, ptrs) => ((submitted += count), submit(ctx, count, ptrs));
  try {
    const second = recordingSink();
    const secondDone = second.next();
    const first = recordingSink(() => {
      void Promise.resolve().then(() => (atMicrotask = submitted)); // queued first: runs before a flush queued after it
      q.submitTo(fd, IOCB_CMD_PWRITE, Buffer.from('second'), 'write', undefined, second);
    });
    const firstDone = first.next();
    q.submitTo(fd, IOCB_CMD_PWRITE, Buffer.from('first'), 'write', undefined, first);
    await firstDone;
    await secondDone;
    assert.is(atMicrotask, 2, 'the re-issued request was in the kernel by the first microtask after the report');
    assert.equal(second.heard, [6]);
  } finally {
    ffi.ioSubmit = submit;
  }
  await q.close();
  fs.closeSync(fd);
});

/** A non-blocking FIFO's two ends: Node has no pipe() call. */
function pipeFds(): [number, number] {
  const fifo = path.join(dir, `p${Math.random().toString(36).slice(2)}`);
  execFileSync('mkfifo', [fifo]);
  const r = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  const w = fs.openSync(fifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
  return [r, w];
}

test.after(() => fs.rmSync(dir, { recursive: true, force: true }));
test.run();
