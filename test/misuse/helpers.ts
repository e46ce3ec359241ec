/**
 * Shared by the misuse tests: after a refused misuse, check that nothing else broke.
 */
import * as assert from 'uvu/assert';
import { classRequest, type DeviceStack } from '../device/harness.js';

/** Nothing else broke: data moves both ways and EP0 answers. */
export async function stillWorks(s: DeviceStack): Promise<void> {
  const pipe = s.device.openPipe();
  const got = new Promise<Buffer>((resolve) => pipe.once('data', resolve));
  await s.host.bulkOut(0x01, Buffer.from('ping'));
  assert.is((await got).toString(), 'ping');
  pipe.write(Buffer.from('pong'));
  assert.is(Buffer.from(await s.host.bulkIn(0x81, 512)).toString(), 'pong');
  const closed = new Promise((resolve) => pipe.once('close', resolve));
  pipe.destroy();
  await closed;
  const off = s.device.control.handle({ request: 0x70 }, () => Buffer.from('ep0'));
  assert.is(Buffer.from(await s.host.controlTransfer(classRequest('in', 0x70, 3))).toString(), 'ep0');
  off();
}

