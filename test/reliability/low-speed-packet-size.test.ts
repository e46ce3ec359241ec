/**
 * Defect (issue 11, item 6): at low speed the pipes report the packet size the bus moves (the
 * full-speed descriptors' wMaxPacketSize, as the emulator's host uses), not the high-speed one,
 * so the ZLP policy follows the real packet boundaries.
 */
import * as assert from 'uvu/assert';
import { BulkWriter } from '../../lib/stream/bulk-pipe.js';
import { openDevice, suitePerBackend } from '../device/harness.js';
import { BULK_IN } from '../stream/helpers.js';

suitePerBackend('low speed', (test, backend) => {
  test('findPipe(0x81).maxPacketSize is the full-speed 64 at low speed', async () => {
    const s = await openDevice(backend, { enumerate: false });
    const seen = new Promise<void>((resolve) => s.device.once('configured', () => resolve()));
    await s.host.enumerate({ speed: 'low' });
    await seen;
    assert.is(s.device.findPipe(BULK_IN)?.maxPacketSize, 64);
    await s.close();
  });

  test('at low speed a 64-byte write ends with a ZLP under the auto policy', async () => {
    const s = await openDevice(backend, { enumerate: false });
    const seen = new Promise<void>((resolve) => s.device.once('configured', () => resolve()));
    await s.host.enumerate({ speed: 'low' });
    await seen;
    const writer = s.device.openWriter() as BulkWriter;
    writer.write(Buffer.alloc(64, 1));
    writer.write(Buffer.alloc(3, 2));
    assert.is((await s.host.bulkIn(BULK_IN, 4096)).length, 64, 'the ZLP ends the first read at the write boundary');
    assert.is((await s.host.bulkIn(BULK_IN, 4096)).length, 3);
    await s.close();
  });
});
