/**
 * A SetupRequest's life: auto-stall at the end of the tick, defer() then answer, double answer,
 * and supersession by a newer setup packet, a reset, a detach or close().
 */
import * as assert from 'uvu/assert';
import { classRequest, openDevice, rejection, settle, settleUntil, suitePerBackend, thrown } from '../device/harness.js';
import type { SetupRequest } from '../../lib/index.js';

/** The next request the control channel emits. */
const nextSetup = (s: { device: { control: { once(e: 'setup', fn: (r: SetupRequest) => void): unknown } } }) =>
  new Promise<SetupRequest>((resolve) => s.device.control.once('setup', resolve));

suitePerBackend('SetupRequest lifecycle', (test, backend) => {
  test('a request with no listener is stalled at the end of the tick', async () => {
    const s = await openDevice(backend);
    const err = await rejection(s.host.controlTransfer(classRequest('in', 0x01, 8)));
    assert.is(err.code, 'USBFN_ERR_STALLED');
    assert.equal(s.ep0Log, ['SET_PIPE_STATE']);
    await s.close();
  });

  test('a request a listener neither answered nor deferred is stalled', async () => {
    const s = await openDevice(backend);
    let seen: SetupRequest | undefined;
    s.device.control.on('setup', (req) => void (seen = req));
    const err = await rejection(s.host.controlTransfer(classRequest('out', 0x01, 0)));
    assert.is(err.code, 'USBFN_ERR_STALLED');
    await settleUntil(() => seen?.state !== 'answering', 'the auto-stall to complete');
    assert.is(seen?.state, 'stalled');
    await s.close();
  });

  test('a request answered in a microtask of the same tick is not stalled', async () => {
    const s = await openDevice(backend);
    s.device.control.on('setup', async (req) => {
      await Promise.resolve();
      await req.respond(Buffer.from('late but in time'));
    });
    assert.is(Buffer.from(await s.host.controlTransfer(classRequest('in', 0x01, 64))).toString(), 'late but in time');
    await s.close();
  });

  test('defer() keeps the request open across turns of the event loop', async () => {
    const s = await openDevice(backend);
    s.device.control.on('setup', (req) => {
      req.defer();
      setTimeout(() => void req.respond(Buffer.from('deferred')), 5);
    });
    assert.is(Buffer.from(await s.host.controlTransfer(classRequest('in', 0x01, 64))).toString(), 'deferred');
    assert.equal(s.ep0Log, ['TRANSFER_IN', 'CONTROL_STATUS_HANDSHAKE_OUT']);
    await s.close();
  });

  test('a deferred host-to-device request can receive() later', async () => {
    const s = await openDevice(backend);
    const got = new Promise<Buffer>((resolve) =>
      s.device.control.on('setup', (req) => {
        req.defer();
        setTimeout(() => void req.receive().then(resolve), 5);
      }),
    );
    await s.host.controlTransfer(classRequest('out', 0x02, 3), Buffer.from('xyz'));
    assert.is((await got).toString(), 'xyz');
    await s.close();
  });

  test('answering twice throws ALREADY_ANSWERED; the first answer stands', async () => {
    const s = await openDevice(backend);
    const codes: Array<string | undefined> = [];
    s.device.control.on('setup', (req) => {
      void req.respond(Buffer.from('first'));
      codes.push(thrown(() => req.respond(Buffer.from('second'))).code);
      codes.push(thrown(() => req.stall()).code);
      codes.push(thrown(() => req.defer()).code);
    });
    assert.is(Buffer.from(await s.host.controlTransfer(classRequest('in', 0x01, 64))).toString(), 'first');
    assert.equal(codes, ['USBFN_ERR_ALREADY_ANSWERED', 'USBFN_ERR_ALREADY_ANSWERED', 'USBFN_ERR_ALREADY_ANSWERED']);
    await s.close();
  });

  test('answering after the answer completed still throws ALREADY_ANSWERED', async () => {
    const s = await openDevice(backend);
    const req = nextSetup(s);
    s.device.control.on('setup', (r) => void r.ack());
    await s.host.controlTransfer(classRequest('out', 0x03, 0));
    const r = await req;
    await settleUntil(() => r.state !== 'answering', 'the answer to complete');
    assert.is(r.state, 'answered');
    assert.is(thrown(() => r.ack()).code, 'USBFN_ERR_ALREADY_ANSWERED');
    await s.close();
  });

  test('a newer setup packet supersedes a deferred request: answering it rejects CANCELED', async () => {
    const s = await openDevice(backend);
    const first = nextSetup(s);
    s.device.control.on('setup', (req) => void (req.bRequest === 0x01 ? req.defer() : req.respond(Buffer.from('second'))));
    const firstHost = rejection(s.host.controlTransfer(classRequest('in', 0x01, 8)));
    const old = await first;
    const second = await s.host.controlTransfer(classRequest('in', 0x02, 8));
    assert.is(Buffer.from(second).toString(), 'second');
    assert.is((await firstHost).code, 'USBFN_ERR_CANCELED');
    assert.is(old.state, 'superseded');
    assert.ok(old.signal.aborted);
    const err = await rejection(old.respond(Buffer.from('too late')));
    assert.is(err.code, 'USBFN_ERR_CANCELED');
    await s.close();
  });

  test('a reset supersedes a deferred request; nothing is stalled for it', async () => {
    const s = await openDevice(backend);
    const first = nextSetup(s);
    s.device.control.on('setup', (req) => void req.defer());
    const host = rejection(s.host.controlTransfer(classRequest('in', 0x01, 8)));
    const req = await first;
    const reset = new Promise<void>((resolve) => s.device.once('reset', () => resolve()));
    s.host.reset('high');
    await reset;
    assert.is((await host).code, 'USBFN_ERR_CANCELED');
    assert.is(req.state, 'superseded');
    assert.is((await rejection(req.stall())).code, 'USBFN_ERR_CANCELED');
    await settle();
    assert.not.ok(s.ep0Log.includes('SET_PIPE_STATE'));
    await s.close();
  });

  test('a detach supersedes a deferred request', async () => {
    const s = await openDevice(backend);
    const first = nextSetup(s);
    s.device.control.on('setup', (req) => void req.defer());
    const host = rejection(s.host.controlTransfer(classRequest('out', 0x01, 0)));
    const req = await first;
    const detached = new Promise<void>((resolve) => s.device.once('detach', () => resolve()));
    s.host.detach();
    await detached;
    assert.is((await host).code, 'USBFN_ERR_DISCONNECTED');
    assert.is((await rejection(req.ack())).code, 'USBFN_ERR_CANCELED');
    await s.close();
  });

  test('close() supersedes a deferred request and the host sees a disconnect', async () => {
    const s = await openDevice(backend);
    const first = nextSetup(s);
    s.device.control.on('setup', (req) => void req.defer());
    const host = rejection(s.host.controlTransfer(classRequest('in', 0x01, 8)));
    const req = await first;
    await s.device.close();
    assert.is((await host).code, 'USBFN_ERR_DISCONNECTED');
    assert.is((await rejection(req.respond(Buffer.from('x')))).code, 'USBFN_ERR_CANCELED');
    assert.is(s.emu.pending(), 0);
    await s.close();
  });
});
