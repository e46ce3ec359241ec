/**
 * The serial port across the bus's life: a detach and re-enumeration pause and resume it with
 * nothing lost or repeated; closing the device closes the port (its 'close' fires, nothing hangs).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { openSerialFunction } from '../../lib/protocols/serial-function.js';
import { serialInterfaceDeclaration } from '../../lib/protocols/cdc-acm.js';
import { closeAll, configure, openEmulated } from './helpers.js';
import { waitUntil } from '../wait.js';

const test = suite('serial function: lifecycle');
test.after.each(closeAll);

test('data flows again after a detach and re-enumeration, nothing lost or repeated', async () => {
  const s = await openEmulated(serialInterfaceDeclaration());
  const port = await openSerialFunction(s.device);
  const received: Buffer[] = [];
  port.on('data', (c: Buffer) => received.push(c));
  await s.host.bulkOut(0x02, Buffer.from('before '));
  await waitUntil(() => Buffer.concat(received).length === 7, 'the first bytes');
  s.host.detach();
  await configure(s);
  await s.host.bulkOut(0x02, Buffer.from('after'));
  await waitUntil(() => Buffer.concat(received).length === 12, 'the bytes after re-enumeration');
  assert.is(Buffer.concat(received).toString(), 'before after');
  port.write(Buffer.from('out'));
  assert.is(Buffer.from(await s.host.bulkIn(0x81, 512, { timeoutMs: 5000 })).toString(), 'out');
  port.destroy();
});

test('closing the device closes the port', async () => {
  const s = await openEmulated(serialInterfaceDeclaration());
  const port = await openSerialFunction(s.device);
  const closed = new Promise((resolve) => port.once('close', resolve));
  await s.close();
  await closed;
  assert.ok(port.destroyed);
});

test.run();
