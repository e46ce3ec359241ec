/**
 * control.handle(match, handler): a returned Buffer responds, undefined acks a no-data request,
 * a throw stalls; the first matching handler owns the request and 'setup' does not see it.
 */
import * as assert from 'uvu/assert';
import { classRequest, openDevice, rejection, suitePerBackend } from '../device/harness.js';

suitePerBackend('control.handle()', (test, backend) => {
  test('an async handler returning a Buffer responds', async () => {
    const s = await openDevice(backend);
    s.device.control.handle({ type: 'class', request: 0x20 }, async (req) => {
      await new Promise((resolve) => setTimeout(resolve, 2));
      return Buffer.from(`value ${req.wValue}`);
    });
    const got = await s.host.controlTransfer(classRequest('in', 0x20, 64, 7));
    assert.is(Buffer.from(got).toString(), 'value 7');
    await s.close();
  });

  test('a handler returning nothing acks a request without data stage', async () => {
    const s = await openDevice(backend);
    let called = 0;
    s.device.control.handle({ type: 'class', request: [0x22, 0x23], direction: 'hostToDevice' }, () => void called++);
    await s.host.controlTransfer(classRequest('out', 0x22, 0));
    await s.host.controlTransfer(classRequest('out', 0x23, 0));
    assert.is(called, 2);
    assert.equal(s.ep0Log, ['CONTROL_STATUS_HANDSHAKE_OUT', 'CONTROL_STATUS_HANDSHAKE_OUT']);
    await s.close();
  });

  test('a handler may receive() the data stage itself', async () => {
    const s = await openDevice(backend);
    const got = new Promise<Buffer>((resolve) =>
      s.device.control.handle({ request: 0x20, direction: 'hostToDevice' }, async (req) => resolve(await req.receive())),
    );
    await s.host.controlTransfer(classRequest('out', 0x20, 7), Buffer.from('line=42'));
    assert.is((await got).toString(), 'line=42');
    await s.close();
  });

  test('a handler that throws stalls the request and reports handlerError', async () => {
    const s = await openDevice(backend);
    const reported = new Promise<unknown[]>((resolve) => s.device.control.once('handlerError', (...args) => resolve(args)));
    s.device.control.handle({ request: 0x21 }, async () => {
      throw new Error('unsupported line coding');
    });
    const err = await rejection(s.host.controlTransfer(classRequest('in', 0x21, 7)));
    assert.is(err.code, 'USBFN_ERR_STALLED');
    const [handlerErr, req] = (await reported) as [Error, { bRequest: number }];
    assert.is(handlerErr.message, 'unsupported line coding');
    assert.is(req.bRequest, 0x21);
    await s.close();
  });

  test('a handler that leaves a data-stage request unanswered stalls it', async () => {
    const s = await openDevice(backend);
    s.device.control.handle({ request: 0x21 }, () => undefined);
    assert.is((await rejection(s.host.controlTransfer(classRequest('in', 0x21, 7)))).code, 'USBFN_ERR_STALLED');
    await s.close();
  });

  test('a handler reply longer than wLength stalls (coded error reported)', async () => {
    const s = await openDevice(backend);
    const reported = new Promise<unknown>((resolve) => s.device.control.once('handlerError', resolve));
    s.device.control.handle({ request: 0x21 }, () => Buffer.alloc(10));
    assert.is((await rejection(s.host.controlTransfer(classRequest('in', 0x21, 4)))).code, 'USBFN_ERR_STALLED');
    assert.is(((await reported) as { code?: string }).code, 'USBFN_ERR_INVALID_ARG');
    await s.close();
  });

  test("handled requests skip 'setup'; others still reach it; unregistering works", async () => {
    const s = await openDevice(backend);
    const seen: number[] = [];
    s.device.control.on('setup', (req) => {
      seen.push(req.bRequest);
      void req.respond(Buffer.from('listener'));
    });
    const off = s.device.control.handle({ type: 'class', request: 0x30 }, () => Buffer.from('handler'));
    assert.is(Buffer.from(await s.host.controlTransfer(classRequest('in', 0x30, 16))).toString(), 'handler');
    assert.is(Buffer.from(await s.host.controlTransfer(classRequest('in', 0x31, 16))).toString(), 'listener');
    off();
    assert.is(Buffer.from(await s.host.controlTransfer(classRequest('in', 0x30, 16))).toString(), 'listener');
    assert.equal(seen, [0x31, 0x30]);
    await s.close();
  });

  test('a predicate selects requests; the first registered match wins', async () => {
    const s = await openDevice(backend);
    s.device.control.handle((req) => req.wValue === 1, () => Buffer.from('predicate'));
    s.device.control.handle({ type: 'class' }, () => Buffer.from('class'));
    assert.is(Buffer.from(await s.host.controlTransfer(classRequest('in', 0x40, 16, 1))).toString(), 'predicate');
    assert.is(Buffer.from(await s.host.controlTransfer(classRequest('in', 0x40, 16, 2))).toString(), 'class');
    await s.close();
  });

  test("a 'setup' listener that throws stalls the request", async () => {
    const s = await openDevice(backend);
    s.device.control.on('setup', () => {
      throw new Error('oops');
    });
    const reported = new Promise<unknown>((resolve) => s.device.control.once('handlerError', resolve));
    assert.is((await rejection(s.host.controlTransfer(classRequest('in', 0x01, 4)))).code, 'USBFN_ERR_STALLED');
    assert.is(((await reported) as Error).message, 'oops');
    await s.close();
  });
});
