/**
 * Completions inside dispatch that are not errors: STATUS_SUCCESS, and a warning
 * (STATUS_BUFFER_OVERFLOW). On Windows both queue a completion packet on the port; the library
 * settles each once, from that packet, and the slot is reused cleanly afterwards.
 */
import * as assert from 'uvu/assert';
import { encodePipeId } from '../../native-defs/codec.js';
import { IoctlError } from '../../lib/driver/genericusbfn/ioctl-device.js';
import type { Win32IoctlDevice } from '../../lib/driver/genericusbfn/win32-device.js';
import { IOCTL_GENERICUSBFN_GET_PIPE_STATE } from '../../native-defs/ioctl.js';
import { ERROR_MORE_DATA } from '../../native-defs/win32-api.js';
import { wineSuite, withServedStack } from './helpers.js';

const STATUS_SUCCESS = 0;
const STATUS_BUFFER_OVERFLOW = 0x80000005;

wineSuite('synchronous success and warning completions', (it) => {
  it('STATUS_SUCCESS inside dispatch resolves once, from its packet', async () => {
    await withServedStack(async ({ server, s, outId }) => {
      const dev = s.ioctlDevice as Win32IoctlDevice;
      await server.completeNextInDispatch(IOCTL_GENERICUSBFN_GET_PIPE_STATE, STATUS_SUCCESS);
      const inFlight = dev.pendingCount; // the driver's bus-event requests
      const done = dev.ioctl(IOCTL_GENERICUSBFN_GET_PIPE_STATE, encodePipeId(outId), new Uint8Array(1));
      assert.is(await done, 0);
      assert.is(dev.pendingCount, inFlight, 'settled once, its slot released');
      assert.is(await s.driver.getPipeState(outId), false, 'the next request on the same slot is answered normally');
    });
  });

  it('a warning inside dispatch settles once, from its packet, as ERROR_MORE_DATA', async () => {
    await withServedStack(async ({ server, s, outId }) => {
      const dev = s.ioctlDevice as Win32IoctlDevice;
      await server.completeNextInDispatch(IOCTL_GENERICUSBFN_GET_PIPE_STATE, STATUS_BUFFER_OVERFLOW);
      const done = dev.ioctl(IOCTL_GENERICUSBFN_GET_PIPE_STATE, encodePipeId(outId), new Uint8Array(1)).then(() => null, (e: unknown) => e);
      const err = await Promise.race([done, new Promise((resolve) => setTimeout(() => resolve('no packet in 10 s'), 10_000))]);
      assert.instance(err, IoctlError, String(err));
      assert.is((err as IoctlError).errno, ERROR_MORE_DATA);
      assert.is(await s.driver.getPipeState(outId), false, 'the next request on the same slot is answered normally');
    });
  });
});
