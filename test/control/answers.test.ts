/**
 * receive(), ack() in both handshake directions, stall(), and the decoded setup fields,
 * observed from host.controlTransfer and the IOCTLs on pipe 0.
 */
import * as assert from 'uvu/assert';
import { classRequest, openDevice, rejection, suitePerBackend, thrown } from '../device/harness.js';
import type { SetupRequest } from '../../lib/index.js';

suitePerBackend('receive(), ack(), stall()', (test, backend) => {
  test('receive() reads the host data stage, then the IN handshake', async () => {
    const s = await openDevice(backend);
    const received = new Promise<Buffer>((resolve) => s.device.control.on('setup', (req) => void req.receive().then(resolve)));
    const got = await s.host.controlTransfer(classRequest('out', 0x02, 5), Buffer.from('abcde'));
    assert.is(got.length, 0);
    assert.is((await received).toString(), 'abcde');
    assert.equal(s.ep0Log, ['TRANSFER_OUT', 'CONTROL_STATUS_HANDSHAKE_IN']);
    await s.close();
  });

  test('receive() of a data stage longer than EP0 mps gets every byte', async () => {
    const s = await openDevice(backend);
    const data = Buffer.from(Array.from({ length: 300 }, (_, i) => i & 0xff));
    const received = new Promise<Buffer>((resolve) => s.device.control.on('setup', (req) => void req.receive().then(resolve)));
    await s.host.controlTransfer(classRequest('out', 0x02, 300), data);
    assert.equal(await received, data);
    await s.close();
  });

  test('receive() on a request without data stage resolves empty after the handshake', async () => {
    const s = await openDevice(backend);
    const received = new Promise<Buffer>((resolve) => s.device.control.on('setup', (req) => void req.receive().then(resolve)));
    await s.host.controlTransfer(classRequest('out', 0x03, 0));
    assert.is((await received).length, 0);
    assert.equal(s.ep0Log, ['CONTROL_STATUS_HANDSHAKE_OUT']);
    await s.close();
  });

  test('ack() ends a no-data request with HANDSHAKE_OUT by default (the header comment)', async () => {
    const s = await openDevice(backend, { emulator: { noDataStatusStage: 'out' } });
    s.device.control.on('setup', (req) => void req.ack());
    await s.host.controlTransfer(classRequest('out', 0x03, 0));
    assert.equal(s.ep0Log, ['CONTROL_STATUS_HANDSHAKE_OUT']);
    await s.close();
  });

  test("noDataHandshake: 'in' ends a no-data request with HANDSHAKE_IN (USB 2.0's direction)", async () => {
    const s = await openDevice(backend, { emulator: { noDataStatusStage: 'in' }, device: { noDataHandshake: 'in' } });
    s.device.control.on('setup', (req) => void req.ack());
    await s.host.controlTransfer(classRequest('out', 0x03, 0));
    assert.equal(s.ep0Log, ['CONTROL_STATUS_HANDSHAKE_IN']);
    await s.close();
  });

  test('ack({ handshake }) overrides the channel default for one request', async () => {
    const s = await openDevice(backend, { emulator: { noDataStatusStage: 'in' } });
    s.device.control.on('setup', (req) => void req.ack({ handshake: 'in' }));
    await s.host.controlTransfer(classRequest('out', 0x03, 0));
    assert.equal(s.ep0Log, ['CONTROL_STATUS_HANDSHAKE_IN']);
    await s.close();
  });

  test('a handshake the driver refuses surfaces as answerError, not a crash', async () => {
    const s = await openDevice(backend, { emulator: { noDataStatusStage: 'in' } });
    const failed = new Promise<unknown>((resolve) => s.device.control.once('answerError', resolve));
    s.device.control.on('setup', (req) => void req.ack()); // 'out' by default: this emulator wants 'in'
    const host = rejection(s.host.controlTransfer(classRequest('out', 0x03, 0), undefined, { timeoutMs: 60_000 }));
    const err = (await failed) as { code?: string };
    assert.ok(err.code, 'a coded UsbFnError');
    await s.close();
    assert.is((await host).code, 'USBFN_ERR_DISCONNECTED');
  });

  test('stall() stalls EP0: the host sees STALLED', async () => {
    const s = await openDevice(backend);
    s.device.control.on('setup', (req) => void req.stall());
    const err = await rejection(s.host.controlTransfer(classRequest('in', 0x05, 8)));
    assert.is(err.code, 'USBFN_ERR_STALLED');
    assert.equal(s.ep0Log, ['SET_PIPE_STATE']);
    await s.close();
  });

  test('the next request after a stall is served normally', async () => {
    const s = await openDevice(backend);
    s.device.control.on('setup', (req) => void (req.bRequest === 0x05 ? req.stall() : req.respond(Buffer.from('fine'))));
    await rejection(s.host.controlTransfer(classRequest('in', 0x05, 8)));
    assert.is(Buffer.from(await s.host.controlTransfer(classRequest('in', 0x06, 8))).toString(), 'fine');
    await s.close();
  });

  test('decodes bmRequestType and the setup fields', async () => {
    const s = await openDevice(backend);
    let req: SetupRequest | undefined;
    s.device.control.on('setup', (r) => {
      req = r;
      void r.respond(Buffer.alloc(0));
    });
    await s.host.controlTransfer({ bmRequestType: 0xc1, bRequest: 0x42, wValue: 0x1234, wIndex: 0x0300, wLength: 7 });
    assert.ok(req);
    assert.is(req.direction, 'deviceToHost');
    assert.is(req.type, 'vendor');
    assert.is(req.recipient, 'interface');
    assert.is(req.bRequest, 0x42);
    assert.is(req.wValue, 0x1234);
    assert.is(req.wIndex, 0x0300);
    assert.is(req.interfaceNumber, 0);
    assert.is(req.wLength, 7);
    await s.close();
  });

  test('wrong-direction answers throw INVALID_ARG synchronously', async () => {
    const s = await openDevice(backend);
    const codes: Array<string | undefined> = [];
    s.device.control.on('setup', (req) => {
      if (req.direction === 'hostToDevice') {
        codes.push(thrown(() => req.respond(Buffer.from('x'))).code);
        void req.receive();
      } else {
        codes.push(thrown(() => req.receive()).code);
        codes.push(thrown(() => req.ack()).code); // it has a data stage
        void req.respond(Buffer.from('y'));
      }
    });
    await s.host.controlTransfer(classRequest('out', 0x02, 1), Buffer.from('z'));
    assert.is(Buffer.from(await s.host.controlTransfer(classRequest('in', 0x01, 1))).toString(), 'y');
    assert.equal(codes, ['USBFN_ERR_INVALID_ARG', 'USBFN_ERR_INVALID_ARG', 'USBFN_ERR_INVALID_ARG']);
    await s.close();
  });
});
