/**
 * Misuse of device.control.handle(): a match that can never match (a typo in a field or its
 * value) is INVALID_ARG naming the field, instead of a handler that silently never runs.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { emulatorBackend } from '../backends.js';
import { classRequest, closeOpenStacks, openDevice, thrown } from '../device/harness.js';

test.after.each(closeOpenStacks);

test("handle({ type: 'klass' }) is INVALID_ARG listing the request types", async () => {
  const s = await openDevice(emulatorBackend);
  const err = thrown(() => s.device.control.handle({ type: 'klass' } as never, () => undefined));
  assert.is(err.code, 'USBFN_ERR_INVALID_ARG');
  assert.match(err.message, /type must be one of "standard", "class", "vendor", "reserved", got "klass"/);
  await s.close();
});

test('handle() with an unknown match field, a bad value or a non-object is INVALID_ARG', async () => {
  const s = await openDevice(emulatorBackend);
  const bad: unknown[] = [
    { bRequest: 1 }, { recipient: 'iface' }, { direction: 'in' }, { request: 256 }, { request: [1, 'x'] }, { interfaceNumber: -1 }, 'class', null,
  ];
  for (const match of bad) assert.is(thrown(() => s.device.control.handle(match as never, () => undefined)).code, 'USBFN_ERR_INVALID_ARG', JSON.stringify(match));
  assert.match(thrown(() => s.device.control.handle({ bRequest: 1 } as never, () => undefined)).message, /did you mean request\?/);
  // nothing was registered: a good handler still answers
  s.device.control.handle({ type: 'class', request: 0x01 }, () => Buffer.from('ok'));
  assert.is(Buffer.from(await s.host.controlTransfer(classRequest('in', 0x01, 8))).toString(), 'ok');
  await s.close();
});

test.run();
