/** setSerialState() sends a 10-byte SERIAL_STATE notification on the interrupt IN endpoint. */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { openSerialFunction } from '../../lib/protocols/serial-function.js';
import { serialInterfaceDeclaration, vendorBulkDeclarationFor } from './serial-fixtures.js';
import { closeAll, openEmulated } from './helpers.js';
import { rejectsWithCode } from '../wait.js';

const test = suite('serial function: SERIAL_STATE');
test.after.each(closeAll);

test('each setSerialState is one notification the host reads on the interrupt endpoint', async () => {
  const s = await openEmulated(serialInterfaceDeclaration());
  const port = await openSerialFunction(s.device);
  const sent = port.setSerialState({ dcd: true, dsr: true, ring: false, overrun: true });
  const note = await s.host.bulkIn(0x83, 16, { timeoutMs: 5000 });
  await sent;
  assert.equal([...note], [0xa1, 0x20, 0, 0, 0, 0, 2, 0, 0b1000011, 0]);
  const second = port.setSerialState({ ring: true, framing: true, parity: true });
  const note2 = await s.host.bulkIn(0x83, 16, { timeoutMs: 5000 });
  await second;
  assert.equal([...note2.subarray(8)], [0b0111000, 0]);
  port.destroy();
});

test('setSerialState waits while the bus is not configured, then goes out', async () => {
  const s = await openEmulated(serialInterfaceDeclaration(), false);
  const port = await openSerialFunction(s.device);
  const sent = port.setSerialState({ dcd: true });
  await s.host.enumerate();
  const note = await s.host.bulkIn(0x83, 16, { timeoutMs: 5000 });
  await sent;
  assert.is(note[8], 1);
  port.destroy();
});

test('without an interrupt IN endpoint setSerialState rejects USBFN_ERR_NOT_SUPPORTED; after destroy USBFN_ERR_CLOSED', async () => {
  const s = await openEmulated(vendorBulkDeclarationFor());
  const port = await openSerialFunction(s.device);
  await rejectsWithCode(port.setSerialState({ dcd: true }), 'USBFN_ERR_NOT_SUPPORTED');
  const s2 = await openEmulated(serialInterfaceDeclaration());
  const port2 = await openSerialFunction(s2.device);
  port2.destroy();
  await rejectsWithCode(port2.setSerialState({ dcd: true }), 'USBFN_ERR_CLOSED');
  port.destroy();
});

test.run();
