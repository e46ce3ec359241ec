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

/** Reads from the port until `n` bytes came, or gives up after `ms` (a hang guard) with what came. */
function readBytes(port: NodeJS.ReadableStream, n: number, ms: number): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let got = 0;
    const finish = () => {
      clearTimeout(timer);
      port.off('data', onData);
      resolve(Buffer.concat(chunks));
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      got += chunk.length;
      if (got >= n) finish();
    };
    const timer = setTimeout(finish, ms);
    port.on('data', onData);
  });
}

// Linux cdc_acm sends a write of 20 × 512 bytes as whole packets with no short packet after
// them: with a read larger than that, the bytes waited in the device until the host sent more.
test('whole packets with no short packet after them reach the port without more data behind them', async () => {
  const s = await openEmulated(serialInterfaceDeclaration());
  const port = await openSerialFunction(s.device);
  for (const n of [512, 10240, 20 * 512 + 512]) {
    const data = pattern(n);
    const reading = readBytes(port, n, 5000);
    await s.host.bulkOut(0x02, data, { timeoutMs: 5000 }); // no ZLP: whole packets only
    const got = await reading;
    assert.is(got.length, n, `${n} bytes in whole packets arrive on their own`);
    assert.ok(got.equals(data));
  }
  port.destroy();
});

test('an explicit pipe readSize still applies (the packet default is only a default)', async () => {
  const s = await openEmulated(serialInterfaceDeclaration());
  const port = await openSerialFunction(s.device, { pipe: { readSize: 16384 } });
  const reading = readBytes(port, 1024, 300);
  await s.host.bulkOut(0x02, pattern(1024), { timeoutMs: 5000 });
  assert.is((await reading).length, 0, 'a 16 KiB read waits for a full buffer or a short packet, as USB does');
  const rest = readBytes(port, 1025, 5000);
  await s.host.bulkOut(0x02, pattern(1), { timeoutMs: 5000 }); // a short packet ends the read
  assert.is((await rest).length, 1025);
  port.destroy();
});

test.run();
