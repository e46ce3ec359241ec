/** TRANSFER_IN and TRANSFER_IN_APPEND_ZERO_PKT: packets, ZLP rules, what the host reads. */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { EmulatedGenericUsbFn } from '../../lib/driver/emulator/index.js';
import { CODES, IN_PIPE, OUT_PIPE, configuredDevice, pattern, pipe, rejectsCode, rejectsWin32, settled, transferIn } from './helpers.js';

const test = suite<{ device: EmulatedGenericUsbFn }>('TRANSFER_IN');
test.before.each(async (ctx) => {
  ctx.device = await configuredDevice(); // high speed: bulk mps 512
});
test.after.each(async (ctx) => {
  await ctx.device.close();
});

const MPS = 512;

for (const length of [1, MPS - 1, MPS + 1, 3 * MPS + 7]) {
  test(`a ${length}-byte TRANSFER_IN ends the host's read with a short packet, ZLP code or not`, async ({ device }) => {
    for (const zlp of [false, true]) {
      const data = pattern(length, zlp ? 1 : 0);
      const sent = transferIn(device, IN_PIPE, data, zlp);
      const read = await device.host.bulkIn(0x81, length + 4 * MPS);
      assert.equal(read, data);
      assert.is(await sent, length);
    }
  });
}

for (const length of [MPS, 4 * MPS]) {
  test(`plain TRANSFER_IN of ${length} bytes (k·mps) sends no ZLP: the host's longer read keeps waiting`, async ({ device }) => {
    const sent = transferIn(device, IN_PIPE, pattern(length));
    const read = device.host.bulkIn(0x81, length + MPS);
    assert.is(await sent, length, 'the device request completes once the host took every packet');
    assert.not.ok(await settled(read), 'no short packet, no ZLP: the transfer is not over');
    await transferIn(device, IN_PIPE, Uint8Array.of(7));
    const got = await read;
    assert.is(got.length, length + 1);
    assert.is(got[length], 7);
  });

  test(`TRANSFER_IN_APPEND_ZERO_PKT of ${length} bytes (k·mps) ends the host's read with a ZLP`, async ({ device }) => {
    const sent = transferIn(device, IN_PIPE, pattern(length), true);
    const read = await device.host.bulkIn(0x81, length + MPS);
    assert.equal(read, pattern(length));
    assert.is(await sent, length);
  });
}

test('a 0-byte TRANSFER_IN (either code) is one ZLP: the host reads an empty transfer', async ({ device }) => {
  for (const zlp of [false, true]) {
    const sent = transferIn(device, IN_PIPE, new Uint8Array(0), zlp);
    const read = await device.host.bulkIn(0x81, 64);
    assert.is(read.length, 0);
    assert.is(await sent, 0);
  }
});

test('a null output buffer is a 0-byte TRANSFER_IN', async ({ device }) => {
  const sent = device.ioctl(CODES.TRANSFER_IN, pipe(IN_PIPE), null);
  assert.is((await device.host.bulkIn(0x81, 64)).length, 0);
  assert.is(await sent, 0);
});

test('a read ending at its own length leaves the appended ZLP for the next read, which is empty', async ({ device }) => {
  const sent = transferIn(device, IN_PIPE, pattern(MPS), true);
  assert.equal(await device.host.bulkIn(0x81, MPS), pattern(MPS));
  assert.not.ok(await settled(sent), 'the ZLP has not been taken yet');
  assert.is((await device.host.bulkIn(0x81, MPS)).length, 0);
  assert.is(await sent, MPS);
});

test('the host read ends at N bytes even mid-transfer; the rest goes to the next read', async ({ device }) => {
  const data = pattern(3 * MPS);
  const sent = transferIn(device, IN_PIPE, data);
  assert.equal(await device.host.bulkIn(0x81, MPS), data.subarray(0, MPS));
  assert.not.ok(await settled(sent), 'TRANSFER_IN pends until the host has read all of it');
  assert.equal(await device.host.bulkIn(0x81, 2 * MPS), data.subarray(MPS));
  assert.is(await sent, 3 * MPS);
});

test('transfers queued back to back without a short packet join into one host read', async ({ device }) => {
  const a = transferIn(device, IN_PIPE, pattern(MPS, 1));
  const b = transferIn(device, IN_PIPE, pattern(10, 2));
  const read = await device.host.bulkIn(0x81, 4 * MPS);
  assert.is(read.length, MPS + 10);
  assert.equal(read.subarray(MPS), pattern(10, 2));
  assert.equal([await a, await b], [MPS, 10]);
});

test('the data is read from the caller\'s output buffer (METHOD_IN_DIRECT) at the time the host takes it', async ({ device }) => {
  const data = new Uint8Array(10);
  const sent = transferIn(device, IN_PIPE, data);
  data[0] = 42; // nothing was taken yet: the host sees the buffer as it is now
  const read = await device.host.bulkIn(0x81, 64);
  assert.is(read[0], 42);
  await sent;
});

test('TRANSFER_IN pends while the host reads nothing (NAK)', async ({ device }) => {
  const sent = transferIn(device, IN_PIPE, pattern(10));
  assert.not.ok(await settled(sent));
  assert.is(device.pending({ code: CODES.TRANSFER_IN, pipeId: IN_PIPE }), 1);
  await device.host.bulkIn(0x81, 64);
  assert.is(await sent, 10);
});

test('the host read pends until the device issues TRANSFER_IN', async ({ device }) => {
  const read = device.host.bulkIn(0x81, 64);
  assert.not.ok(await settled(read));
  await transferIn(device, IN_PIPE, pattern(3));
  assert.equal(await read, pattern(3));
});

test('full speed cuts packets at 64 bytes', async () => {
  const device = await configuredDevice(undefined, 'full');
  const sent = transferIn(device, IN_PIPE, pattern(64), true);
  assert.is((await device.host.bulkIn(0x81, 128)).length, 64, 'ended by the ZLP that 64 = 1·mps needs');
  await sent;
  await device.close();
});

test('host babble: a packet larger than the read has left fails the read (USBFN_ERR_MALFORMED)', async ({ device }) => {
  const sent = transferIn(device, IN_PIPE, pattern(100));
  await rejectsCode(device.host.bulkIn(0x81, 10), 'USBFN_ERR_MALFORMED');
  assert.is(await sent, 100, 'the packet went out; the host dropped it');
});

test('TRANSFER_IN on an OUT pipe, pipe 99, or without a 4-byte pipe id fails with ERROR_INVALID_PARAMETER', async ({ device }) => {
  await rejectsWin32(transferIn(device, OUT_PIPE, pattern(1)), 87);
  await rejectsWin32(transferIn(device, 99, pattern(1)), 87);
  await rejectsWin32(device.ioctl(CODES.TRANSFER_IN, null, pattern(1)), 87);
  await rejectsWin32(device.ioctl(CODES.TRANSFER_IN, new Uint8Array(3), pattern(1)), 87);
});

test('transferInBytesReturned "zero" reports 0 bytes for a successful TRANSFER_IN', async () => {
  const device = await configuredDevice({ transferInBytesReturned: 'zero' });
  const sent = transferIn(device, IN_PIPE, pattern(100));
  await device.host.bulkIn(0x81, 512);
  assert.is(await sent, 0);
  await device.close();
});

test('interrupt endpoints move data like bulk ones, with their own packet size', async () => {
  const device = await configuredDevice({ endpoints: [{ address: 0x83, type: 'interrupt', maxPacketSize: { high: 16 } }] });
  const sent = transferIn(device, 1, pattern(16), true);
  assert.equal(await device.host.bulkIn(0x83, 64), pattern(16));
  await sent;
  await device.close();
});

test.run();
