/**
 * Defect (issue 11, hostStall faults, left out of the soak until now): data order around a host
 * halt. The host halts IN just as the device sends write 8 (issued on write 0's completion), so
 * write 8 fails; the host clears the halt while the device asks GET_PIPE_STATE why, and reads
 * on. Writes 1-7, queued before the halt, go out, and write 9, issued on write 1's completion
 * before write 8's failure had come back from that check, went out ahead of write 8's re-send:
 * the host read 0,1,...,7,9,8. README's promise (onStall 'wait'): a transfer on a halted pipe
 * waits for the halt to clear, so every write reaches the host once, in order.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as IOCTL from '../../native-defs/ioctl.js';
import { BulkWriter } from '../../lib/stream/bulk-pipe.js';
import { BULK_IN, TRANSFER_IN, forEachBackend, until, withStack } from '../stream/helpers.js';

const SET_FEATURE = 3;
const CLEAR_FEATURE = 1;

forEachBackend((backend, it) => {
  it('writes through a host halt cleared while the device checks it reach the host once each, in order', () =>
    withStack(backend, async (s) => {
      const writer = new BulkWriter({ driver: s.driver, link: s.link, in: BULK_IN, writesInFlight: 8, stallPollMs: 5 });
      writer.on('error', (e) => assert.unreachable(`stream error: ${e}`));
      writer.on('stall', () => undefined);
      for (let i = 0; i < 10; i++) writer.write(Buffer.from([i]));
      await until(() => writer.stats.writesPending === 8, 'eight writes in flight');
      const endpointHalt = (bRequest: number) =>
        void s.host.controlTransfer({ bmRequestType: 0x02, bRequest, wValue: 0, wIndex: BULK_IN, wLength: 0 }).catch(() => undefined);
      let step: 'halt' | 'clear' | 'done' = 'halt';
      const onIoctl = (info: { code: number }) => {
        if (step === 'halt' && info.code === TRANSFER_IN) {
          endpointHalt(SET_FEATURE); // before the driver sees write 8: it fails on the halt
          step = 'clear';
        } else if (step === 'clear' && info.code === IOCTL.IOCTL_GENERICUSBFN_GET_PIPE_STATE) {
          endpointHalt(CLEAR_FEATURE); // while the device checks why write 8 failed
          step = 'done';
        }
      };
      s.device.on('ioctl', onIoctl);
      const got: number[] = [];
      try {
        while (got.length < 10) {
          try {
            got.push(...(await s.host.bulkIn(BULK_IN, 64)));
          } catch {
            await new Promise((r) => setTimeout(r, 1)); // halted: the host tries again
          }
        }
      } finally {
        s.device.off('ioctl', onIoctl);
      }
      assert.is(step, 'done', 'the halt and its clear happened');
      assert.equal(got, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], `host got ${got}`);
      await until(() => writer.stats.writesPending === 0, 'writes settled');
      writer.destroy();
    }));
});

test.run();
