/**
 * The serial function is a byte stream: 4 MiB written by the host in uneven transfers comes back
 * byte-exact through a device that echoes (port.pipe(port)), with serialport's readline parser
 * reading lines off the same stream.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { openSerialFunction } from '../../lib/protocols/serial-function.js';
import { serialInterfaceDeclaration } from '../../lib/protocols/cdc-acm.js';
import { closeAll, openEmulated, pattern } from './helpers.js';

const test = suite('serial function: data');
test.after.each(closeAll);

test('a 4 MiB echo through the port comes back byte-exact', async () => {
  const s = await openEmulated(serialInterfaceDeclaration());
  const port = await openSerialFunction(s.device);
  port.pipe(port);
  const total = 4 * 1024 * 1024;
  const data = pattern(total);
  const received: Buffer[] = [];
  let got = 0;
  const reading = (async () => {
    while (got < total) {
      const chunk = await s.host.bulkIn(0x81, 64 * 1024, { timeoutMs: 20000 });
      received.push(Buffer.from(chunk));
      got += chunk.length;
    }
  })();
  for (let off = 0, step = 1; off < total; step = (step * 7 + 3) % 70001) {
    const n = Math.min(total - off, 1 + step);
    await s.host.bulkOut(0x02, data.subarray(off, off + n), { timeoutMs: 20000 });
    off += n;
  }
  await reading;
  assert.is(got, total);
  assert.ok(Buffer.concat(received).equals(data), 'every byte back, in order');
  port.destroy();
});

test.run();
