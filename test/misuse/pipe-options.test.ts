/**
 * Misuse of the pipe options (openPipe / openReader / openWriter and BulkPipe itself): unknown
 * keys and wrong types are INVALID_ARG naming the key; a second stream on an endpoint already
 * streamed is INVALID_STATE. After each refusal the device still streams.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BulkPipe, type BulkPipeOptions } from '../../lib/index.js';
import { emulatorBackend } from '../backends.js';
import { closeOpenStacks, openDevice, thrown } from '../device/harness.js';
import { stillWorks } from './helpers.js';

test.after.each(closeOpenStacks);

test('an unknown pipe option (zlpp) is INVALID_ARG suggesting zlp, on every entry point', async () => {
  const s = await openDevice(emulatorBackend);
  const o = { zlpp: 'never' } as never;
  for (const err of [thrown(() => s.device.openPipe(o)), thrown(() => s.device.openReader(o)), thrown(() => s.device.openWriter(o))]) {
    assert.is(err.code, 'USBFN_ERR_INVALID_ARG');
    assert.match(err.message, /unknown option "zlpp" \(did you mean zlp\?\)/);
  }
  const direct = thrown(() => new BulkPipe({ driver: s.stack.driver, link: s.device.link, out: 1, zlpp: 'never' } as BulkPipeOptions));
  assert.match(direct.message, /did you mean zlp/);
  await stillWorks(s);
});

test('the other side\'s endpoint on a lone half is an unknown option (openReader({ in }))', async () => {
  const s = await openDevice(emulatorBackend);
  assert.match(thrown(() => s.device.openReader({ in: 0x81 } as never)).message, /unknown option "in"/);
  assert.match(thrown(() => s.device.openWriter({ out: 0x01 } as never)).message, /unknown option "out"/);
  assert.match(thrown(() => s.device.openPipe({ driver: s.stack.driver } as never)).message, /unknown option "driver"/);
  await stillWorks(s);
});

test('wrong option types are INVALID_ARG: packetMode, signal, high-water marks, the options object', async () => {
  const s = await openDevice(emulatorBackend);
  const bad: unknown[] = [{ packetMode: 'yes' }, { signal: {} }, { readableHighWaterMark: -1 }, { writableHighWaterMark: 1.5 }, { zlp: true }, { readsOutstanding: '4' }, 'fast'];
  for (const o of bad) assert.is(thrown(() => s.device.openPipe(o as never)).code, 'USBFN_ERR_INVALID_ARG', JSON.stringify(o));
  await stillWorks(s);
});

test('zero or huge pool options are INVALID_ARG: readsOutstanding, writesInFlight, readSize', async () => {
  const s = await openDevice(emulatorBackend);
  for (const o of [{ readsOutstanding: 0 }, { readsOutstanding: 1e6 }, { writesInFlight: 0 }, { writesInFlight: 65 }, { readSize: 0 }, { readSize: 2 ** 31 }, { readSize: 100 }]) {
    assert.is(thrown(() => s.device.openPipe(o)).code, 'USBFN_ERR_INVALID_ARG', JSON.stringify(o));
  }
  await stillWorks(s);
});

test("readSize 'packet' is byte mode only; any other string is INVALID_ARG", async () => {
  const s = await openDevice(emulatorBackend);
  for (const o of [{ readSize: 'packet', packetMode: true }, { readSize: 'packets' }]) {
    assert.is(thrown(() => s.device.openPipe(o as never)).code, 'USBFN_ERR_INVALID_ARG', JSON.stringify(o));
  }
  await stillWorks(s);
});

test('two readers on one endpoint: the second is INVALID_STATE until the first has closed', async () => {
  const s = await openDevice(emulatorBackend);
  const first = s.device.openReader();
  const err = thrown(() => s.device.openReader());
  assert.is(err.code, 'USBFN_ERR_INVALID_STATE');
  assert.match(err.message, /endpoint 0x1 already has an open stream/);
  assert.is(thrown(() => s.device.openPipe()).code, 'USBFN_ERR_INVALID_STATE', 'a Duplex over the same OUT endpoint too');
  const writer = s.device.openWriter();
  assert.is(thrown(() => s.device.openWriter()).code, 'USBFN_ERR_INVALID_STATE', 'two writers on one IN endpoint');
  const closed = Promise.all([new Promise((r) => first.once('close', r)), new Promise((r) => writer.once('close', r))]);
  first.destroy();
  writer.destroy();
  await closed;
  await stillWorks(s);
});

test.run();
