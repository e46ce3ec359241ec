/**
 * Win32IoctlDevice.ioctlTo, the hot path's callback entry (IoctlDevice.ioctlTo's rules): the
 * harvester reports straight to the sink, never from within the call, in the port's order with a
 * failure decided inside a call never overtaken by a later completion, a sink may issue from
 * within its call, and a sink that throws does not cost the others their outcome.
 */
import * as assert from 'uvu/assert';
import { IoctlError, type IoctlSink } from '../../lib/driver/genericusbfn/ioctl-device.js';
import { ERROR_INVALID_HANDLE, ERROR_INVALID_PARAMETER, ERROR_OPERATION_ABORTED } from '../../native-defs/win32-errors.js';
import { TRANSFER_OUT, echoHandler, openFake, standin, standinSuite } from './helpers.js';

const test = standinSuite('stand-in: ioctlTo (callbacks from the harvester)');
const PIPE = Uint8Array.of(1, 0, 0, 0);

/** A sink logging `tag:bytes` or `tag:errno` to `log`. */
function logSink(log: string[], tag: string): IoctlSink {
  return { done: (n) => void log.push(`${tag}:${n}`), failed: (err) => void log.push(`${tag}:E${(err as IoctlError).errno}`) };
}

/** Input koffi refuses before calling: the request fails inside the call. */
const REFUSED_INPUT = { not: 'a buffer' } as unknown as Uint8Array;

test('a refusal or a failure inside the call reaches the sink later, never within ioctlTo', async () => {
  const { dev, id, remove } = openFake(echoHandler(0));
  standin!.setInstant(id, true, 1);
  const log: string[] = [];
  dev.ioctlTo(TRANSFER_OUT, REFUSED_INPUT, new Uint8Array(8), undefined, logSink(log, 'refused'));
  dev.ioctlTo(TRANSFER_OUT, PIPE, new Uint8Array(8), AbortSignal.abort(), logSink(log, 'aborted'));
  assert.equal(log, [], 'nothing reported from within the calls');
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(log, [`refused:E${ERROR_INVALID_PARAMETER}`, `aborted:E${ERROR_OPERATION_ABORTED}`]);
  await dev.close();
  dev.ioctlTo(TRANSFER_OUT, PIPE, new Uint8Array(8), undefined, logSink(log, 'closed'));
  assert.is(log.length, 2);
  await Promise.resolve();
  assert.is(log[2], `closed:E${ERROR_INVALID_HANDLE}`);
  remove();
});

test('a failure decided inside a call is never overtaken by a completion issued after it', async () => {
  const { dev, id, remove } = openFake(echoHandler(0));
  standin!.setInstant(id, true, 2);
  try {
    for (let round = 0; round < 300; round++) {
      const log: string[] = [];
      // Issued before: its packet may have the harvester queued in this turn, ahead of the failure's microtask.
      dev.ioctlTo(TRANSFER_OUT, PIPE, new Uint8Array(8), undefined, logSink(log, 'before'));
      dev.ioctlTo(TRANSFER_OUT, REFUSED_INPUT, new Uint8Array(8), undefined, logSink(log, 'failed'));
      dev.ioctlTo(TRANSFER_OUT, PIPE, new Uint8Array(8), undefined, logSink(log, 'after'));
      while (log.length < 3) await new Promise((resolve) => setImmediate(resolve));
      assert.ok(log.indexOf(`failed:E${ERROR_INVALID_PARAMETER}`) < log.indexOf('after:8'), `round ${round}: ${log.join(' ')}`);
    }
  } finally {
    await dev.close();
    remove();
  }
});

test('a sink may issue the next request from within its call', async () => {
  const { dev, id, remove } = openFake(echoHandler(0));
  standin!.setInstant(id, true, 3);
  const out = new Uint8Array(16);
  let left = 2000;
  let failure: unknown = null;
  await new Promise<void>((resolve) => {
    const sink: IoctlSink = {
      done: (n) => {
        assert.is(n, 16);
        if (--left === 0) return resolve();
        dev.ioctlTo(TRANSFER_OUT, PIPE, out, undefined, sink);
      },
      failed: (err) => ((failure = err), resolve()),
    };
    dev.ioctlTo(TRANSFER_OUT, PIPE, out, undefined, sink);
  });
  assert.is(failure, null);
  assert.is(dev.pendingCount, 0);
  await dev.close();
  remove();
});

test('a sink that throws does not cost the rest of its batch their outcomes; the throw surfaces', async () => {
  const { dev, id, remove } = openFake(echoHandler(0));
  standin!.setInstant(id, true, 4);
  const thrown = new Error('a sink that throws');
  const surfaced: unknown[] = [];
  const onUnhandled = (reason: unknown) => void surfaced.push(reason);
  process.on('unhandledRejection', onUnhandled);
  try {
    const log: string[] = [];
    dev.ioctlTo(TRANSFER_OUT, PIPE, new Uint8Array(8), undefined, { done: () => { throw thrown; }, failed: () => {} });
    for (let i = 0; i < 7; i++) dev.ioctlTo(TRANSFER_OUT, PIPE, new Uint8Array(8), undefined, logSink(log, `r${i}`));
    while (log.length < 7) await new Promise((resolve) => setImmediate(resolve));
    assert.equal(log, ['r0:8', 'r1:8', 'r2:8', 'r3:8', 'r4:8', 'r5:8', 'r6:8'], 'in the order issued');
    for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
    assert.equal(surfaced, [thrown]);
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
  await dev.close();
  remove();
});

test.run();
