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
import { BULK_IN, TRANSFER_IN, forEachBackend, until, withStack, type StreamStack } from '../stream/helpers.js';
import { assertInOrder, oneByteWritesInFlight, readThroughFaults } from './order.js';
import { standinTest } from './late-harvest.js';

const SET_FEATURE = 3;
const CLEAR_FEATURE = 1;

/** The host's SET_FEATURE / CLEAR_FEATURE(ENDPOINT_HALT) on BULK_IN: takes effect at once. */
const endpointHalt = (s: StreamStack, bRequest: number) =>
  void s.host.controlTransfer({ bmRequestType: 0x02, bRequest, wValue: 0, wIndex: BULK_IN, wLength: 0 }).catch(() => undefined);

forEachBackend((backend, it) => {
  it('writes through a host halt cleared while the device checks it reach the host once each, in order', () =>
    withStack(backend, async (s) => {
      const writer = await oneByteWritesInFlight(s, 10, { stallPollMs: 5 });
      let step: 'halt' | 'clear' | 'done' = 'halt';
      const onIoctl = (info: { code: number }) => {
        if (step === 'halt' && info.code === TRANSFER_IN) {
          endpointHalt(s, SET_FEATURE); // before the driver sees write 8: it fails on the halt
          step = 'clear';
        } else if (step === 'clear' && info.code === IOCTL.IOCTL_GENERICUSBFN_GET_PIPE_STATE) {
          endpointHalt(s, CLEAR_FEATURE); // while the device checks why write 8 failed
          step = 'done';
        }
      };
      s.device.on('ioctl', onIoctl);
      const got: number[] = [];
      try {
        await readThroughFaults(s, got, 10);
      } finally {
        s.device.off('ioctl', onIoctl);
      }
      assert.is(step, 'done', 'the halt and its clear happened');
      await assertInOrder(got, 10, writer);
    }));
});

/*
 * The same through a device that harvests late (the 80 s koffi soak, seed 20261205, host halt
 * held 0.8 ms): writes 0 and 1 complete before the halt but reach the writer 60 ms later. Write 8,
 * sent on write 0's success, fails on the halt, which the host clears at once; write 9, sent on
 * write 1's success, came before write 8's failure in the completion port, so the driver had no
 * failure to check yet and write 9 went out ahead of write 8's re-send.
 */
standinTest('writes through a host halt the device learns of late reach the host once each, in order', async (s, standin) => {
  const writer = await oneByteWritesInFlight(s, 10, { stallPollMs: 5 });
  standin.setCompletionDelay(60_000);
  let cleared = false;
  const onIoctl = (info: { code: number }) => {
    if (info.code !== TRANSFER_IN || cleared) return;
    cleared = true;
    queueMicrotask(() => {
      endpointHalt(s, CLEAR_FEATURE); // write 8 has just failed on the halt
      standin.setCompletionDelay(0); // what is queued keeps its order
    });
  };
  const got: number[] = [];
  try {
    got.push(...(await s.host.bulkIn(BULK_IN, 64)), ...(await s.host.bulkIn(BULK_IN, 64)));
    endpointHalt(s, SET_FEATURE);
    s.device.on('ioctl', onIoctl);
    await until(() => cleared, 'write 8');
  } finally {
    s.device.off('ioctl', onIoctl);
    standin.setCompletionDelay(0);
  }
  await readThroughFaults(s, got, 10);
  await assertInOrder(got, 10, writer);
});

test.run();
