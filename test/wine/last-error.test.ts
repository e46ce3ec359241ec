/**
 * GetLastError is a per-thread value any Win32 call may overwrite; the library must read it in
 * the same synchronous step as the failing call. A synchronous failure awaited only after many
 * event-loop turns, with completions harvested (GetOverlappedResult, GetQueuedCompletionStatusEx)
 * and other requests issued in between, still carries its own error.
 */
import * as assert from 'uvu/assert';
import { encodePipeId } from '../../native-defs/codec.js';
import { IoctlError } from '../../lib/driver/genericusbfn/ioctl-device.js';
import type { Win32IoctlDevice } from '../../lib/driver/genericusbfn/win32-device.js';
import { IOCTL_GENERICUSBFN_GET_PIPE_STATE } from '../../native-defs/ioctl.js';
import { BULK_OUT, wineSuite, withServedStack } from './helpers.js';

wineSuite('GetLastError across event-loop turns', (it) => {
  it('a synchronous failure keeps its own error while other requests complete before it is awaited', async () => {
    await withServedStack(async ({ server, s, outId }) => {
      const dev = s.ioctlDevice as Win32IoctlDevice;
      await server.failNext(IOCTL_GENERICUSBFN_GET_PIPE_STATE, 87);
      const failed = dev.ioctl(IOCTL_GENERICUSBFN_GET_PIPE_STATE, encodePipeId(outId), new Uint8Array(1)).then(() => null, (e: unknown) => e);
      // Turns with other Win32 traffic: 16 reads completed (harvested) and a failing open.
      const reads = Array.from({ length: 16 }, () => s.driver.transferOut(outId, new Uint8Array(64)));
      for (let i = 0; i < 16; i++) await s.host.bulkOut(BULK_OUT, Uint8Array.of(i));
      await Promise.all(reads);
      await new Promise((resolve) => setTimeout(resolve, 20));
      const err = await failed;
      assert.instance(err, IoctlError);
      assert.is((err as IoctlError).errno, 87, 'the error DeviceIoControl set, not a later call\'s');
    });
  });
});
