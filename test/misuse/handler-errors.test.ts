/**
 * A bug in user code on EP0 is never swallowed: a 'setup' listener or handler that throws, and a
 * handler returning something that cannot answer (a string, data for a host-to-device request),
 * are reported on 'handlerError' (INVALID_ARG for a bad return value) or, with no such listener,
 * thrown on their own tick like an unhandled 'error' event. Either way the host sees a STALL and
 * the next request is answered normally.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { emulatorBackend } from '../backends.js';
import { classRequest, closeOpenStacks, openDevice, rejection, settle, type DeviceStack } from '../device/harness.js';

test.after.each(closeOpenStacks);

/** Runs `body` with uncaught exceptions captured instead of ending the test run. */
async function capturingUncaught(body: (uncaught: unknown[]) => Promise<void>): Promise<void> {
  const uncaught: unknown[] = [];
  const onUncaught = (err: unknown) => uncaught.push(err);
  const originals = process.listeners('uncaughtException');
  for (const l of originals) process.off('uncaughtException', l);
  process.on('uncaughtException', onUncaught);
  try {
    await body(uncaught);
  } finally {
    process.off('uncaughtException', onUncaught);
    for (const l of originals) process.on('uncaughtException', l);
  }
}

async function stalls(s: DeviceStack, bRequest: number, direction: 'in' | 'out' = 'in'): Promise<void> {
  const data = direction === 'out' ? Buffer.alloc(4) : undefined;
  assert.is((await rejection(s.host.controlTransfer(classRequest(direction, bRequest, 4), data))).code, 'USBFN_ERR_STALLED');
}

async function stillAnswers(s: DeviceStack): Promise<void> {
  s.device.control.handle({ request: 0x7f }, () => Buffer.from('fine'));
  assert.is(Buffer.from(await s.host.controlTransfer(classRequest('in', 0x7f, 4))).toString(), 'fine');
}

test("a 'setup' listener that throws, with no handlerError listener: stalled, and the error is thrown uncaught", async () => {
  const s = await openDevice(emulatorBackend);
  await capturingUncaught(async (uncaught) => {
    s.device.control.once('setup', () => {
      throw new Error('listener bug');
    });
    await stalls(s, 0x01);
    await settle();
    assert.is((uncaught[0] as Error)?.message, 'listener bug');
  });
  await stillAnswers(s);
});

test('a handler that rejects, with no handlerError listener: stalled, and the rejection is thrown uncaught', async () => {
  const s = await openDevice(emulatorBackend);
  await capturingUncaught(async (uncaught) => {
    s.device.control.handle({ request: 0x02 }, async () => {
      throw new Error('handler bug');
    });
    await stalls(s, 0x02);
    await settle();
    assert.is((uncaught[0] as Error)?.message, 'handler bug');
  });
  await stillAnswers(s);
});

test('a handler returning a non-Buffer is reported as INVALID_ARG on handlerError and stalled', async () => {
  const s = await openDevice(emulatorBackend);
  const reported: Array<{ code?: string; message: string }> = [];
  s.device.control.on('handlerError', (err) => reported.push(err as never));
  s.device.control.handle({ request: 0x03 }, () => 'hello' as never);
  s.device.control.handle({ request: 0x04 }, () => Buffer.from('data') as never);
  await stalls(s, 0x03);
  await stalls(s, 0x04, 'out');
  assert.is(reported.length, 2);
  assert.is(reported[0].code, 'USBFN_ERR_INVALID_ARG');
  assert.match(reported[0].message, /returned "hello": return a Buffer\/Uint8Array/);
  assert.match(reported[1].message, /returned data for a host-to-device request/);
  await stillAnswers(s);
});

test('a handler returning a non-Buffer with no handlerError listener: stalled and thrown uncaught', async () => {
  const s = await openDevice(emulatorBackend);
  await capturingUncaught(async (uncaught) => {
    s.device.control.handle({ request: 0x05 }, () => 42 as never);
    await stalls(s, 0x05);
    await settle();
    assert.is((uncaught[0] as { code?: string })?.code, 'USBFN_ERR_INVALID_ARG');
  });
  await stillAnswers(s);
});

test.run();
