/**
 * SetupRequest.respond(): the data stage device-to-host, observed from host.controlTransfer and
 * from the IOCTLs the driver issues on pipe 0.
 */
import * as assert from 'uvu/assert';
import { classRequest, openDevice, settleUntil, suitePerBackend, thrown } from '../device/harness.js';

const bytes = (n: number, seed = 1) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff));

suitePerBackend('respond()', (test, backend) => {
  test('sends a short reply, then the OUT handshake', async () => {
    const s = await openDevice(backend);
    s.device.control.on('setup', (req) => void req.respond(Buffer.from('hello')));
    const got = await s.host.controlTransfer(classRequest('in', 0x01, 64));
    assert.is(Buffer.from(got).toString(), 'hello');
    assert.equal(s.ep0Log, ['TRANSFER_IN', 'CONTROL_STATUS_HANDSHAKE_OUT']);
    await s.close();
  });

  test('a reply of exactly wLength (a multiple of EP0 mps) needs no ZLP', async () => {
    const s = await openDevice(backend);
    s.device.control.on('setup', (req) => void req.respond(bytes(128)));
    const got = await s.host.controlTransfer(classRequest('in', 0x01, 128));
    assert.equal(Buffer.from(got), bytes(128));
    assert.equal(s.ep0Log, ['TRANSFER_IN', 'CONTROL_STATUS_HANDSHAKE_OUT']);
    await s.close();
  });

  test('a reply shorter than wLength and a multiple of EP0 mps ends with a ZLP', async () => {
    const s = await openDevice(backend);
    s.device.control.on('setup', (req) => void req.respond(bytes(64)));
    const got = await s.host.controlTransfer(classRequest('in', 0x01, 200));
    assert.equal(Buffer.from(got), bytes(64));
    assert.equal(s.ep0Log, ['TRANSFER_IN_APPEND_ZERO_PKT', 'CONTROL_STATUS_HANDSHAKE_OUT']);
    await s.close();
  });

  test('an empty reply to a request with a data stage is a lone ZLP', async () => {
    const s = await openDevice(backend);
    s.device.control.on('setup', (req) => void req.respond(Buffer.alloc(0)));
    const got = await s.host.controlTransfer(classRequest('in', 0x01, 16));
    assert.is(got.length, 0);
    await s.close();
  });

  test('the ZLP rule uses EP0 max packet size of the current speed (PipeArr[0])', async () => {
    const s = await openDevice(backend, { emulator: { ep0MaxPacketSize: { full: 8, high: 64, super: 512 } }, enumerate: 'full' });
    assert.is(s.device.control.ep0MaxPacketSize, 8);
    s.device.control.on('setup', (req) => void req.respond(bytes(16)));
    assert.equal(Buffer.from(await s.host.controlTransfer(classRequest('in', 0x01, 40))), bytes(16));
    assert.equal(s.ep0Log, ['TRANSFER_IN_APPEND_ZERO_PKT', 'CONTROL_STATUS_HANDSHAKE_OUT']);
    s.ep0Log.length = 0;
    s.host.reset('super');
    s.host.configure(1);
    await new Promise((resolve) => s.device.once('configured', resolve));
    assert.is(s.device.control.ep0MaxPacketSize, 512);
    assert.equal(Buffer.from(await s.host.controlTransfer(classRequest('in', 0x01, 40))), bytes(16));
    assert.equal(s.ep0Log, ['TRANSFER_IN', 'CONTROL_STATUS_HANDSHAKE_OUT']);
    await s.close();
  });

  test('a reply longer than wLength throws INVALID_ARG and leaves the request open', async () => {
    const s = await openDevice(backend);
    let code: string | undefined;
    s.device.control.on('setup', (req) => {
      code = thrown(() => req.respond(bytes(10))).code;
      void req.respond(bytes(4));
    });
    const got = await s.host.controlTransfer(classRequest('in', 0x01, 4));
    assert.is(code, 'USBFN_ERR_INVALID_ARG');
    assert.equal(Buffer.from(got), bytes(4));
    await s.close();
  });

  test('{ truncate: true } cuts a long reply to wLength', async () => {
    const s = await openDevice(backend);
    s.device.control.on('setup', (req) => void req.respond(bytes(100), { truncate: true }));
    const got = await s.host.controlTransfer(classRequest('in', 0x01, 9));
    assert.equal(Buffer.from(got), bytes(9));
    assert.equal(s.ep0Log, ['TRANSFER_IN', 'CONTROL_STATUS_HANDSHAKE_OUT']);
    await s.close();
  });

  test('respond() resolves once the status stage is done, and the request reads answered', async () => {
    const s = await openDevice(backend);
    const states: string[] = [];
    s.device.control.on('setup', async (req) => {
      states.push(req.state);
      const p = req.respond(Buffer.from('ok'));
      states.push(req.state);
      await p;
      states.push(req.state);
    });
    await s.host.controlTransfer(classRequest('in', 0x01, 8));
    await settleUntil(() => states.length === 3, 'respond() to resolve');
    assert.equal(states, ['pending', 'answering', 'answered']);
    await s.close();
  });
});
