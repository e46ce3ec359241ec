/**
 * Win32IoctlDevice and AbortSignals: one listener per signal however many requests carry it (a
 * BulkPipe passes one signal for all its transfers), an abort cancels exactly the requests that
 * carry that signal, and no listener outlives close() or piles up with a fresh signal per request.
 */
import { getEventListeners } from 'node:events';
import * as assert from 'uvu/assert';
import type { IoctlError } from '../../lib/driver/genericusbfn/ioctl-device.js';
import * as E from '../../native-defs/win32-errors.js';
import { TRANSFER_OUT, echoHandler, openFake, parkingHandler, standinSuite, until } from './helpers.js';

const test = standinSuite('win32 device: abort signals');
const pipe1 = () => Uint8Array.of(1, 0, 0, 0);
const listeners = (signal: AbortSignal) => getEventListeners(signal, 'abort').length;
const outcome = (p: Promise<number>) => p.then((n) => n, (e: IoctlError) => -e.errno);

test('eight requests on one signal: one abort listener, kept while it serves, gone at close()', async () => {
  const h = parkingHandler();
  const { dev, remove } = openFake(h);
  const ac = new AbortController();
  const all = Array.from({ length: 8 }, () => dev.ioctl(TRANSFER_OUT, pipe1(), new Uint8Array(8), ac.signal));
  await until(() => h.parked.length === 8, 'eight requests');
  assert.is(listeners(ac.signal), 1, 'one listener for eight requests');
  h.parked.forEach((r) => r.resolve(8));
  assert.equal(await Promise.all(all), Array(8).fill(8));
  assert.is(listeners(ac.signal), 1, 'kept for the next request on this signal');
  await dev.close();
  assert.is(listeners(ac.signal), 0, 'let go by close()');
  remove();
});

test('an abort cancels every pending request carrying that signal, and only those', async () => {
  const h = parkingHandler();
  const { dev, remove } = openFake(h);
  const [a, b] = [new AbortController(), new AbortController()];
  const onA = Array.from({ length: 3 }, () => outcome(dev.ioctl(TRANSFER_OUT, pipe1(), new Uint8Array(8), a.signal)));
  const onB = Array.from({ length: 2 }, () => outcome(dev.ioctl(TRANSFER_OUT, pipe1(), new Uint8Array(8), b.signal)));
  const bare = outcome(dev.ioctl(TRANSFER_OUT, pipe1(), new Uint8Array(8)));
  await until(() => h.parked.length === 6, 'six requests');
  a.abort();
  assert.equal(await Promise.all(onA), Array(3).fill(-E.ERROR_OPERATION_ABORTED));
  assert.equal(h.parked.map((r) => r.signal.aborted), [true, true, true, false, false, false]);
  h.parked.slice(3).forEach((r, i) => r.resolve(i + 1));
  assert.equal(await Promise.all([...onB, bare]), [1, 2, 3]);
  assert.is(listeners(a.signal), 0);
  await dev.close();
  remove();
});

test('a fresh signal per request: listeners of settled ones are let go, never piling up', async () => {
  const { dev, remove } = openFake(echoHandler(0));
  const signals: AbortSignal[] = [];
  for (let i = 0; i < 300; i++) {
    const { signal } = new AbortController();
    signals.push(signal);
    assert.is(await dev.ioctl(TRANSFER_OUT, pipe1(), new Uint8Array(4), signal), 4);
  }
  const still = signals.filter((s) => listeners(s) > 0).length;
  assert.ok(still <= 64, `${still} of 300 signals still listened to (bounded)`);
  assert.is(listeners(signals[0]!), 0, 'the first was let go');
  await dev.close();
  assert.is(signals.filter((s) => listeners(s) > 0).length, 0, 'none after close()');
  remove();
});

test.run();
