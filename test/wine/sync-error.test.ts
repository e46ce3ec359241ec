/**
 * A synchronous error completion (the driver fails the IRP inside dispatch): DeviceIoControl
 * returns FALSE with the error, no completion packet is queued, and the request's OVERLAPPED
 * slot is reused by the next request without a stray packet settling it.
 */
import * as assert from 'uvu/assert';
import { encodePipeId } from '../../native-defs/codec.js';
import { IoctlError } from '../../lib/driver/genericusbfn/ioctl-device.js';
import type { Win32IoctlDevice } from '../../lib/driver/genericusbfn/win32-device.js';
import { IOCTL_GENERICUSBFN_GET_PIPE_STATE, IOCTL_GENERICUSBFN_TRANSFER_OUT } from '../../native-defs/ioctl.js';
import { waitUntil } from '../wait.js';
import { wineSuite, withServedStack } from './helpers.js';

wineSuite('synchronous error completion', (it) => {
  it('rejects with the error at once, queues no packet, and the slot is reused cleanly', async () => {
    await withServedStack(async ({ server, s, outId }) => {
      const dev = s.ioctlDevice as Win32IoctlDevice;
      const before = (await server.stats()).syncFailures;
      await server.failNext(IOCTL_GENERICUSBFN_GET_PIPE_STATE, 1167);
      const inFlight = dev.pendingCount; // the driver's bus-event requests
      const failed = dev.ioctl(IOCTL_GENERICUSBFN_GET_PIPE_STATE, encodePipeId(outId), new Uint8Array(1)).then(() => null, (e: unknown) => e);
      assert.is(dev.pendingCount, inFlight, 'settled inside the call: nothing more in flight');
      const err = await failed;
      assert.instance(err, IoctlError);
      assert.is((err as IoctlError).errno, 1167);
      assert.is((await server.stats()).syncFailures, before + 1, 'the broker failed it inside dispatch');
      // The same OVERLAPPED slot, now a read that stays pending: a stray packet would settle it.
      const read = dev.ioctl(IOCTL_GENERICUSBFN_TRANSFER_OUT, encodePipeId(outId), new Uint8Array(512));
      let settled = false;
      read.then(() => (settled = true), () => (settled = true));
      await waitUntil(() => s.device.pending({ pipeId: outId }) === 1, 'the read held by the emulator', 30_000);
      for (let i = 0; i < 20; i++) await new Promise((resolve) => setTimeout(resolve, 5));
      assert.not.ok(settled, 'no completion arrived for the failed request');
    });
  });
});
