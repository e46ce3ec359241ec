/**
 * Win32IoctlDevice: many requests at once, CancelIoEx racing completion, close() with requests
 * pending, and one harvester for everything. The stand-in's counters prove each request completed
 * once and each packet was posted and harvested once.
 */
import { spawnSync } from 'node:child_process';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import * as assert from 'uvu/assert';
import { IoctlError } from '../../lib/driver/genericusbfn/ioctl-device.js';
import * as E from '../../native-defs/win32-errors.js';
import { STANDIN_DIR } from './build.js';
import { TRANSFER_OUT, echoHandler, ioctlErrorOf, openFake, parkingHandler, standin, standinSuite, until } from './helpers.js';

const test = standinSuite('win32 device: concurrency, cancellation, close');
const pipe1 = () => Uint8Array.of(1, 0, 0, 0);

/**
 * Nothing left outstanding in the stand-in by this test, nothing posted that was not harvested.
 * Relative to `before`: other suites in this process may hold devices open meanwhile.
 */
function assertQuiet(before: ReturnType<NonNullable<typeof standin>['stats']>): void {
  const s = standin!.stats();
  assert.ok(s.requestsOutstanding <= before.requestsOutstanding, `requests outstanding: ${s.requestsOutstanding} > ${before.requestsOutstanding}`);
  assert.is(s.badCompletions, before.badCompletions, 'completions of requests not pending');
  assert.is(s.overlappedReuse, before.overlappedReuse, 'OVERLAPPEDs reused while in flight');
  assert.is(s.packetsPosted - before.packetsPosted, s.packetsDequeued - before.packetsDequeued, 'packets posted = harvested');
}

test('300 requests pending at once on one harvester; an fs call meanwhile is not starved', async () => {
  const before = standin!.stats();
  const h = parkingHandler();
  const { dev, remove } = openFake(h);
  const outs = Array.from({ length: 300 }, () => new Uint8Array(8));
  const all = outs.map((o) => dev.ioctl(TRANSFER_OUT, pipe1(), o));
  await until(() => h.parked.length === 300, '300 requests');
  assert.is(dev.pendingCount, 300);
  const t0 = performance.now();
  await stat('.'); // libuv's pool has 4 threads: one blocked harvester leaves the rest free
  assert.ok(performance.now() - t0 < 200, 'fs.stat was not starved');
  h.parked.forEach((r, i) => (r.output!.fill(i & 0xff), r.resolve(i % 9)));
  const counts = await Promise.all(all);
  counts.forEach((n, i) => assert.is(n, i % 9));
  outs.forEach((o, i) => assert.ok(o.every((b) => b === (i & 0xff))));
  await dev.close();
  remove();
  assertQuiet(before);
});

test('abort: CancelIoEx reaches the driver, and the promise waits until the driver let go', async () => {
  const h = parkingHandler();
  h.honourCancel = false;
  const { dev, remove } = openFake(h);
  const ac = new AbortController();
  let settled = false;
  const p = dev.ioctl(TRANSFER_OUT, pipe1(), new Uint8Array(8), ac.signal).finally(() => (settled = true));
  await until(() => h.parked.length === 1, 'the request');
  ac.abort();
  assert.ok(h.parked[0]!.signal.aborted, 'the driver saw the cancellation');
  await new Promise((r) => setTimeout(r, 20));
  assert.not.ok(settled, 'not settled while the driver still holds the buffer');
  h.parked[0]!.reject(E.ERROR_OPERATION_ABORTED);
  assert.is((await ioctlErrorOf(p)).errno, E.ERROR_OPERATION_ABORTED);
  await dev.close();
  remove();
});

test('a driver that completes despite the cancel wins: one outcome, its own', async () => {
  const h = parkingHandler();
  h.honourCancel = false;
  const { dev, remove } = openFake(h);
  const ac = new AbortController();
  const p = dev.ioctl(TRANSFER_OUT, pipe1(), new Uint8Array(8), ac.signal);
  await until(() => h.parked.length === 1, 'the request');
  ac.abort();
  h.parked[0]!.resolve(8);
  assert.is(await p, 8);
  await dev.close();
  remove();
});

test('abort after completion but before harvest: CancelIoEx finds nothing, the success stands', async () => {
  const h = parkingHandler();
  const { dev, remove } = openFake(h);
  standin!.setCompletionDelay(20_000); // the packet is 20 ms away when the abort comes
  try {
    const ac = new AbortController();
    const p = dev.ioctl(TRANSFER_OUT, pipe1(), new Uint8Array(8), ac.signal);
    await until(() => h.parked.length === 1, 'the request');
    h.parked[0]!.resolve(3);
    await new Promise((r) => setTimeout(r, 2));
    ac.abort();
    assert.is(await p, 3);
  } finally {
    standin!.setCompletionDelay(0);
  }
  await dev.close();
  remove();
});

test('cancellation racing completion, 2000 times: each request settles once, 995 or its count', async () => {
  const before = standin!.stats();
  const { dev, remove } = openFake(echoHandler(0));
  standin!.setCompletionDelay(20);
  try {
    const outcomes = await Promise.all(Array.from({ length: 2000 }, async (_, i) => {
      const ac = new AbortController();
      const p = dev.ioctl(TRANSFER_OUT, pipe1(), new Uint8Array(4), ac.signal);
      if (i % 3 === 0) ac.abort(); // in the same tick as issue
      else if (i % 3 === 1) setImmediate(() => ac.abort()); // around the driver's completion
      else setTimeout(() => ac.abort(), i % 5); // around the harvest
      return p.then((n) => n, (e: IoctlError) => -e.errno);
    }));
    for (const o of outcomes) assert.ok(o === 4 || o === -E.ERROR_OPERATION_ABORTED, `outcome ${o}`);
    assert.ok(outcomes.includes(4) && outcomes.includes(-E.ERROR_OPERATION_ABORTED), 'both outcomes happened');
  } finally {
    standin!.setCompletionDelay(0);
  }
  await dev.close();
  remove();
  assertQuiet(before);
});

test('close() cancels everything pending, waits for each completion, then closes the handle', async () => {
  const before = standin!.stats();
  const h = parkingHandler();
  h.honourCancel = false;
  const { dev, remove } = openFake(h);
  const pending = Array.from({ length: 70 }, () => dev.ioctl(TRANSFER_OUT, pipe1(), new Uint8Array(8)).catch((e: IoctlError) => e.errno));
  await until(() => h.parked.length === 70, 'the requests');
  let closed = false;
  const closing = dev.close().then(() => (closed = true));
  assert.ok(h.parked.every((r) => r.signal.aborted), 'each was cancelled');
  await new Promise((r) => setTimeout(r, 20));
  assert.not.ok(closed, 'close waits while the driver holds buffers');
  assert.not.ok(h.closed, 'the handle is still open');
  h.parked.forEach((r) => r.reject(E.ERROR_OPERATION_ABORTED));
  await closing;
  assert.ok(h.closed, 'the handle was closed (the driver heard of it)');
  assert.ok((await Promise.all(pending)).every((e) => e === E.ERROR_OPERATION_ABORTED));
  assert.is((await ioctlErrorOf(dev.ioctl(TRANSFER_OUT, pipe1(), new Uint8Array(8)))).errno, E.ERROR_INVALID_HANDLE);
  await dev.close(); // idempotent
  remove();
  assertQuiet(before);
  assert.ok(standin!.stats().handlesOpen <= before.handlesOpen, "our handle is closed");
});

test('devices share one completion port, closed with the last of them', async () => {
  const base = standin!.stats().portsAlive; // > 0 when another suite holds a device open
  const withOurs = Math.max(base, 1);
  const opened = [openFake(echoHandler(1)), openFake(echoHandler(1)), openFake(echoHandler(1))];
  assert.is(standin!.stats().portsAlive, withOurs, 'three devices, one port');
  await Promise.all(opened.map(({ dev }) => dev.ioctl(TRANSFER_OUT, pipe1(), new Uint8Array(4))));
  await opened[0]!.dev.close();
  await opened[1]!.dev.close();
  assert.is(standin!.stats().portsAlive, withOurs);
  await opened[2]!.dev.close();
  assert.is(standin!.stats().portsAlive, base, 'the port went with the last device (if it was ours alone)');
  opened.forEach((o) => o.remove());
  const again = openFake(echoHandler(0)); // a new port after the last one closed
  assert.is(await again.dev.ioctl(TRANSFER_OUT, pipe1(), new Uint8Array(2)), 2);
  await again.dev.close();
  again.remove();
});

test('a completing thread preempted right after posting does not keep the closed port alive', async () => {
  // The cause of the flaky "one completion port" case above: the thread that posted a packet held
  // the port until after the harvester had it, so a port closed meanwhile was still counted alive.
  const base = standin!.stats().portsAlive;
  standin!.setCompletionLinger(50_000);
  try {
    const { dev, remove } = openFake(echoHandler(1)); // completes later: on the completion thread
    assert.is(await dev.ioctl(TRANSFER_OUT, pipe1(), new Uint8Array(4)), 4);
    await dev.close(); // while the completion thread still lingers after its post
    remove();
    assert.is(standin!.stats().portsAlive, base, 'the port went with its last device');
  } finally {
    standin!.setCompletionLinger(0);
  }
  await new Promise((r) => setTimeout(r, 60)); // let the lingering thread leave before the next case
});

test('an already aborted signal rejects without reaching the driver', async () => {
  const before = standin!.stats();
  const { dev, remove } = openFake(echoHandler());
  const err = await ioctlErrorOf(dev.ioctl(TRANSFER_OUT, pipe1(), new Uint8Array(4), AbortSignal.abort()));
  assert.is(err.errno, E.ERROR_OPERATION_ABORTED);
  assert.is(standin!.stats().requestsStarted, before.requestsStarted);
  await dev.close();
  remove();
});

test('after close() a process exits by itself: no async call, timer or handle left behind', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(STANDIN_DIR, 'fixtures/exit-after-close.ts')],
    { encoding: 'utf8', timeout: 30_000 });
  assert.is(r.signal, null, `the child was killed (did not exit by itself): ${r.stderr}`);
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout.trim(), 'done 50 10');
});

test.run();
