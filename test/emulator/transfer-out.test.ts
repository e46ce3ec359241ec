/** TRANSFER_OUT and the host's bulkOut: completion on short packet, ZLP or full buffer; overflow. */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { EmulatedGenericUsbFn } from '../../lib/driver/emulator/index.js';
import { CODES, IN_PIPE, OUT_PIPE, configuredDevice, pattern, pipe, rejectsCode, rejectsWin32, settled, transferOut } from './helpers.js';

const test = suite<{ device: EmulatedGenericUsbFn }>('TRANSFER_OUT');
test.before.each(async (ctx) => {
  ctx.device = await configuredDevice();
});
test.after.each(async (ctx) => {
  await ctx.device.close();
});

const MPS = 512;

test('completes on a short packet with the bytes received, written into the caller\'s buffer', async ({ device }) => {
  const buf = new Uint8Array(4 * MPS);
  const received = transferOut(device, OUT_PIPE, buf);
  await device.host.bulkOut(0x01, pattern(MPS + 100));
  assert.is(await received, MPS + 100);
  assert.equal(buf.subarray(0, MPS + 100), pattern(MPS + 100));
  assert.is(buf[MPS + 100], 0, 'nothing written past the data');
});


test('completes on a full buffer; the rest of the host\'s data waits for the next TRANSFER_OUT', async ({ device }) => {
  const sent = device.host.bulkOut(0x01, pattern(3 * MPS + 10));
  const first = new Uint8Array(MPS);
  assert.is(await transferOut(device, OUT_PIPE, first), MPS);
  assert.not.ok(await settled(sent), 'bulkOut resolves only when the device took every packet');
  const second = new Uint8Array(4 * MPS);
  assert.is(await transferOut(device, OUT_PIPE, second), 2 * MPS + 10);
  await sent;
  assert.equal(second.subarray(0, 2 * MPS + 10), pattern(3 * MPS + 10).subarray(MPS));
});

test('a k·mps bulkOut without zlp does not end the device\'s larger TRANSFER_OUT; more data does', async ({ device }) => {
  const buf = new Uint8Array(4 * MPS);
  const received = transferOut(device, OUT_PIPE, buf);
  await device.host.bulkOut(0x01, pattern(MPS));
  assert.not.ok(await settled(received), 'no short packet, no ZLP, buffer not full');
  await device.host.bulkOut(0x01, pattern(5, 9));
  assert.is(await received, MPS + 5);
  assert.equal(buf.subarray(MPS, MPS + 5), pattern(5, 9));
});

for (const length of [MPS, 2 * MPS]) {
  test(`bulkOut of ${length} bytes (k·mps) with zlp: true ends the TRANSFER_OUT with a ZLP`, async ({ device }) => {
    const received = transferOut(device, OUT_PIPE, new Uint8Array(8 * MPS));
    await device.host.bulkOut(0x01, pattern(length), { zlp: true });
    assert.is(await received, length);
  });
}

for (const length of [1, MPS - 1, MPS + 1]) {
  test(`bulkOut of ${length} bytes ends with a short packet whether or not zlp is set (no extra ZLP)`, async ({ device }) => {
    for (const zlp of [false, true]) {
      const received = transferOut(device, OUT_PIPE, new Uint8Array(8 * MPS));
      await device.host.bulkOut(0x01, pattern(length), { zlp });
      assert.is(await received, length);
    }
    const next = transferOut(device, OUT_PIPE, new Uint8Array(MPS));
    assert.not.ok(await settled(next), 'no stray ZLP was queued');
  });
}

test('a 0-byte bulkOut is one ZLP: TRANSFER_OUT completes with 0 bytes', async ({ device }) => {
  for (const zlp of [false, true]) {
    const received = transferOut(device, OUT_PIPE, new Uint8Array(MPS));
    await device.host.bulkOut(0x01, new Uint8Array(0), { zlp });
    assert.is(await received, 0);
  }
});

test('a full buffer followed by the host\'s ZLP: the ZLP completes the next TRANSFER_OUT with 0', async ({ device }) => {
  const first = transferOut(device, OUT_PIPE, new Uint8Array(MPS));
  const sent = device.host.bulkOut(0x01, pattern(MPS), { zlp: true });
  assert.is(await first, MPS);
  assert.not.ok(await settled(sent), 'the ZLP is still waiting for a TRANSFER_OUT');
  assert.is(await transferOut(device, OUT_PIPE, new Uint8Array(MPS)), 0);
  await sent;
});

test('bulkOut pends (NAK) while the device has no TRANSFER_OUT pending', async ({ device }) => {
  const sent = device.host.bulkOut(0x01, pattern(10));
  assert.not.ok(await settled(sent));
  assert.is(await transferOut(device, OUT_PIPE, new Uint8Array(MPS)), 10);
  await sent;
});

test('overflow: a packet larger than the space left fails TRANSFER_OUT with ERROR_GEN_FAILURE; the packet is lost', async ({ device }) => {
  const buf = new Uint8Array(100);
  const received = transferOut(device, OUT_PIPE, buf);
  const sent = device.host.bulkOut(0x01, pattern(200));
  const err = await rejectsWin32(received, 31);
  assert.is(err.bytesReturned, 0);
  await sent; // the host's packet was taken (ACKed) and dropped, as with babble
});

test('overflow after whole packets reports the bytes that fitted', async ({ device }) => {
  const buf = new Uint8Array(MPS + 10);
  const received = transferOut(device, OUT_PIPE, buf);
  void device.host.bulkOut(0x01, pattern(2 * MPS));
  const err = await rejectsWin32(received, 31);
  assert.is(err.bytesReturned, MPS);
  assert.equal(buf.subarray(0, MPS), pattern(MPS));
});

test('a 0-byte TRANSFER_OUT waits for a ZLP', async ({ device }) => {
  const received = transferOut(device, OUT_PIPE, new Uint8Array(0));
  assert.not.ok(await settled(received));
  await device.host.bulkOut(0x01, new Uint8Array(0));
  assert.is(await received, 0);
});

test('several pending TRANSFER_OUTs fill in FIFO order', async ({ device }) => {
  const bufs = [new Uint8Array(MPS), new Uint8Array(MPS), new Uint8Array(MPS)];
  const all = bufs.map((b) => transferOut(device, OUT_PIPE, b));
  const order: number[] = [];
  all.forEach((p, i) => p.then(() => order.push(i)));
  await device.host.bulkOut(0x01, pattern(3 * MPS));
  assert.equal(await Promise.all(all), [MPS, MPS, MPS]);
  assert.equal(order, [0, 1, 2]);
  assert.equal(bufs[2], pattern(3 * MPS).subarray(2 * MPS));
});

test('TRANSFER_OUT on an IN pipe or an unknown pipe fails with ERROR_INVALID_PARAMETER', async ({ device }) => {
  await rejectsWin32(transferOut(device, IN_PIPE, new Uint8Array(8)), 87);
  await rejectsWin32(transferOut(device, 3, new Uint8Array(8)), 87);
  await rejectsWin32(device.ioctl(CODES.TRANSFER_OUT, new Uint8Array(2), new Uint8Array(8)), 87);
});

test('host bulkOut to an IN endpoint or a missing one is USBFN_ERR_INVALID_ARG', async ({ device }) => {
  await rejectsCode(device.host.bulkOut(0x81, pattern(1)), 'USBFN_ERR_INVALID_ARG');
  await rejectsCode(device.host.bulkOut(0x05, pattern(1)), 'USBFN_ERR_INVALID_ARG');
  await rejectsCode(device.host.bulkIn(0x01, 8), 'USBFN_ERR_INVALID_ARG');
});

test('bulkIn can read into a caller buffer (no allocation per read)', async ({ device }) => {
  const into = new Uint8Array(4096);
  const sent = device.ioctl(CODES.TRANSFER_IN, pipe(IN_PIPE), pattern(700));
  const got = await device.host.bulkIn(0x81, 4096, { into });
  assert.is(got.buffer, into.buffer);
  assert.equal(got, pattern(700));
  await sent;
});

test.run();
