/**
 * Defect (issue 11, item 1, koffi path): a transfer's failure reached its caller several
 * microtasks after a success settled at the same moment, and after the bus event the driver
 * completed right behind it. Through koffi a whole batch of completions settles at once (op 0's
 * success, the cancellations of ops 1-7, the Unconfigured event): the writer acted on op 0's
 * success and on the emulator lifting its loss fence before it knew ops 1-7 were cancelled, and
 * write 8 overtook their re-sends (the 60 s koffi soak's reorders).
 *
 * GenericUsbFnDriver on a scripted IoctlDevice: callers' handlers must run in the order the
 * device settled the requests, failures included.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { GenericUsbFnDriver } from '../../lib/driver/genericusbfn/index.js';
import { IoctlError, type IoctlDevice } from '../../lib/driver/genericusbfn/ioctl-device.js';
import { ERROR_OPERATION_ABORTED } from '../../native-defs/win32-errors.js';

/** Parks every request; the test settles them. */
class ScriptedDevice implements IoctlDevice {
  readonly parked: Array<{ resolve(n: number): void; reject(e: IoctlError): void; output: Uint8Array | null }> = [];

  ioctl(_code: number, _input: Uint8Array | null, output: Uint8Array | null): Promise<number> {
    return new Promise((resolve, reject) => this.parked.push({ resolve, reject, output }));
  }

  async close(): Promise<void> {
    for (const p of this.parked.splice(0)) p.reject(new IoctlError(ERROR_OPERATION_ABORTED));
  }
}

test('a cancellation settled before a success reaches its caller first', async () => {
  const device = new ScriptedDevice();
  const driver = new GenericUsbFnDriver(device);
  const order: string[] = [];
  const data = new Uint8Array(16);
  const cancelled = driver.transferIn(1, data).then(() => order.push('op 1 ok'), () => order.push('op 1 failed'));
  const completed = driver.transferIn(1, data).then(() => order.push('op 2 ok'), () => order.push('op 2 failed'));
  const [first, second] = device.parked;
  first!.reject(new IoctlError(ERROR_OPERATION_ABORTED)); // one completion batch: the cancellation...
  second!.resolve(16); // ...then a success
  await Promise.all([cancelled, completed]);
  assert.equal(order, ['op 1 failed', 'op 2 ok']);
  await driver.close();
});

test('a cancellation settled before the next bus event reaches its caller before the event pump asks again', async () => {
  const device = new ScriptedDevice();
  const driver = new GenericUsbFnDriver(device, { notificationDepth: 1 });
  const order: string[] = [];
  const next = driver.nextBusEvent(); // starts the pump: one BUS_EVENT_NOTIFICATION parked
  const notification = device.parked[0]!;
  const write = driver.transferIn(1, new Uint8Array(16)).catch(() => order.push('write failed'));
  const transfer = device.parked[1]!;
  const asked = device.parked.length;
  transfer.reject(new IoctlError(ERROR_OPERATION_ABORTED)); // the bus loss cancels the write...
  notification.output!.set([8, 0, 0, 0]); // ...and completes the notification: UsbfnEventUnConfigured
  notification.resolve(12);
  const watch = (async () => {
    while (device.parked.length === asked) await Promise.resolve();
    order.push('pump asked again');
  })();
  await Promise.all([write, next.catch(() => undefined), watch]);
  assert.equal(order, ['write failed', 'pump asked again']);
  await driver.close();
});

test.run();
