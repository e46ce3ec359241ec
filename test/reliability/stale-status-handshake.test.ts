/**
 * Defect (issue 11, item 3): when the host sends a new SETUP while the device is between the
 * data stage and the status handshake of the previous request, the old handshake must not
 * complete the new request, and the old answer rejects USBFN_ERR_CANCELED.
 */
import * as assert from 'uvu/assert';
import { classRequest, openDevice, rejection, suitePerBackend } from '../device/harness.js';
import type { SetupRequest } from '../../lib/index.js';

suitePerBackend('a newer SETUP before the status stage', (test, backend) => {
  for (const when of ['as its data stage is queued', 'once its data stage has moved'] as const)
  test(`a SETUP ${when}: the old answer rejects CANCELED and its handshake does not complete the newer request`, async () => {
    const s = await openDevice(backend);
    const answers: Array<Promise<unknown>> = [];
    s.device.control.on('setup', (req: SetupRequest) => {
      if (req.bRequest === 0x01) answers.push(req.respond(Buffer.from('12345678')).then(() => 'resolved', (e: { code?: string }) => e.code));
      else void req.stall(); // the newer request is refused
    });
    let newer: Promise<unknown> | undefined;
    s.emu.on('ioctl', (info) => {
      // The data stage of the first request is queued: the host moves on to a new SETUP at once.
      if (info.pipeId === 0 && info.name === 'TRANSFER_IN' && !newer) {
        const send = () => (newer = s.host.controlTransfer(classRequest('out', 0x02, 0)).then(() => 'success', (e: { code?: string }) => e.code));
        if (when === 'as its data stage is queued') send();
        else queueMicrotask(send);
      }
    });
    const first = rejection(s.host.controlTransfer(classRequest('in', 0x01, 8)));
    assert.is((await first).code, 'USBFN_ERR_CANCELED', 'the host abandoned the first request');
    while (!newer) await new Promise((r) => setImmediate(r));
    assert.is(await newer, 'USBFN_ERR_STALLED', 'the host sees the stall the device chose for the newer request');
    assert.is(await answers[0], 'USBFN_ERR_CANCELED', 'the old answer rejects');
    await s.close();
  });
});
