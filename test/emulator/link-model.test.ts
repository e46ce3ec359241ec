/**
 * The emulator's link model (options.link 'timed'): modelled bus time per data pipe at the
 * enumerated speed's bulk ceiling, plus the device's turnaround. Every figure is modelled time,
 * read from linkStats(); nothing here reads a wall clock.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { EmulatedGenericUsbFn, LINK_RATES, linkUtilisation, type EmulatorOptions, type LinkStats } from '../../lib/driver/emulator/index.js';
import { IN_PIPE, OUT_PIPE, configuredDevice, pattern, rejectsCode, transferIn, transferOut } from './helpers.js';

const MICROFRAME = 13 * 512; // USB 2.0 Table 5-10: high-speed bulk, per 125 µs
const close = (actual: number, expected: number, what: string) =>
  assert.ok(Math.abs(actual - expected) < 1e-6 * Math.max(1, Math.abs(expected)), `${what}: ${actual} ≠ ${expected}`);

/** The device keeps `inFlight` TRANSFER_OUTs of `size` pending until `count` have completed; the host sends everything at once. */
async function receive(device: EmulatedGenericUsbFn, size: number, count: number, inFlight: number): Promise<Uint8Array> {
  const data = pattern(size * count);
  const received = new Uint8Array(size * count);
  let issued = 0;
  const reader = async () => {
    while (issued < count) {
      const at = issued++ * size;
      assert.is(await transferOut(device, OUT_PIPE, received.subarray(at, at + size)), size);
    }
  };
  const readers = Array.from({ length: inFlight }, reader);
  await device.host.bulkOut(0x01, data);
  await Promise.all(readers);
  assert.equal(received, data, 'the data moves byte for byte as without the model');
  return received;
}

async function timed(link: EmulatorOptions['link'], speed: 'full' | 'high' | 'super' = 'high'): Promise<EmulatedGenericUsbFn> {
  return configuredDevice({ link }, speed);
}

const stats = (device: EmulatedGenericUsbFn, address = 0x01) => device.linkStats(address) as LinkStats;

test("by default ('instant') no time is kept: linkStats is undefined", async () => {
  const device = await configuredDevice();
  await receive(device, 512, 4, 1);
  assert.is(device.linkStats(0x01), undefined);
  assert.is(device.options.link.model, 'instant');
  await device.close();
});

test('high speed: 13 × 512 B take one 125 µs microframe, so back-to-back transfers fill 53.248 MB/s', async () => {
  const device = await timed('timed');
  await receive(device, 4 * MICROFRAME, 10, 2);
  const s = stats(device);
  close(s.elapsedUs, 40 * 125, 'elapsed');
  assert.is(s.idleUs, 0);
  assert.is(s.bytes, 40 * MICROFRAME);
  assert.is(s.packets, 40 * 13);
  close(LINK_RATES.high.payloadBytesPerSecond, 53.248e6, 'ceiling');
  close(linkUtilisation({ ...s, elapsedUs: 0, bytes: 0 }, s, 'high').utilisation, 1, 'utilisation');
  await device.close();
});

test('SuperSpeed: a 1024 B packet costs 1072 symbols stretched by SKP (2 ns each): 474.9 MB/s', async () => {
  const device = await timed('timed', 'super');
  await receive(device, 16 * 1024, 8, 2); // bursts of 16 × 1024 B
  const s = stats(device);
  const packetNs = 1072 * 2 * (356 / 354);
  close(s.busyUs, (8 * 16 * packetNs) / 1e3, 'busy');
  assert.ok(Math.abs(LINK_RATES.super.payloadBytesPerSecond / 1e6 - 474.9) < 0.05, `${LINK_RATES.super.payloadBytesPerSecond}`);
  assert.is(s.speed, 'super');
  await device.close();
});

test('full speed: 19 × 64 B per 1 ms frame', async () => {
  const device = await timed('timed', 'full');
  await receive(device, 19 * 64, 3, 1);
  close(stats(device).elapsedUs, 3000, 'elapsed');
  await device.close();
});

test('one transfer in flight: the bus idles for the turnaround after each completion', async () => {
  const device = await timed({ model: 'timed', turnaroundUs: 50 });
  await receive(device, MICROFRAME, 6, 1);
  const s = stats(device);
  close(s.busyUs, 6 * 125, 'busy');
  close(s.idleUs, 5 * 50, 'idle: the first transfer answers no completion');
  close(linkUtilisation({ ...s, elapsedUs: 0, bytes: 0 }, s, 'high').utilisation, 750 / 1000, 'utilisation');
  await device.close();
});

test('N transfers in flight hide a turnaround up to (N − 1) transfers long; a longer one shows', async () => {
  const hidden = await timed({ model: 'timed', turnaroundUs: 250 }); // 2 transfers of 125 µs
  await receive(hidden, MICROFRAME, 12, 3);
  assert.is(stats(hidden).idleUs, 0);
  await hidden.close();
  const shown = await timed({ model: 'timed', turnaroundUs: 300 });
  await receive(shown, MICROFRAME, 12, 3);
  // transfer i ≥ 3 is ready 300 µs after transfer i − 3 ended: every 3 transfers take 125 + 300 µs
  close(stats(shown).idleUs, 3 * 50, 'idle');
  await shown.close();
});

test("the device's real reaction decides what is queued: answering completions in batches of 3 shows the turnaround", async () => {
  const device = await timed({ model: 'timed', turnaroundUs: 100 });
  const data = pattern(9 * MICROFRAME);
  const sent = device.host.bulkOut(0x01, data);
  for (let round = 0; round < 3; round++) {
    const bufs = [0, 1, 2].map(() => new Uint8Array(MICROFRAME));
    await Promise.all(bufs.map((b) => transferOut(device, OUT_PIPE, b))); // the next three only once all three are in
  }
  await sent;
  // three in flight answered one by one hide 100 µs (see above); answered as a batch they do not
  close(stats(device).idleUs, 2 * 100, 'idle');
  await device.close();
});

test('a host with nothing queued stops the clock: the host is modelled as infinitely fast', async () => {
  const device = await timed({ model: 'timed', turnaroundUs: 1000 });
  const pending = transferIn(device, IN_PIPE, pattern(512));
  await new Promise((r) => setTimeout(r, 20)); // real time passes; modelled time does not
  assert.equal(await device.host.bulkIn(0x81, 512), pattern(512));
  await pending;
  const s = stats(device, 0x81);
  close(s.elapsedUs, 125 / 13, 'one max-size packet');
  assert.is(s.idleUs, 0);
  await device.close();
});

test('short packets and ZLPs cost their packet overhead plus their bytes', async () => {
  const device = await timed('timed');
  const sent = transferIn(device, IN_PIPE, pattern(512), true); // one full packet + a ZLP
  await device.host.bulkIn(0x81, 1024);
  await sent;
  const short = transferIn(device, IN_PIPE, pattern(100));
  await device.host.bulkIn(0x81, 512);
  await short;
  const { overheadNs, nsPerByte } = LINK_RATES.high;
  const s = stats(device, 0x81);
  close(s.busyUs, (125e3 / 13 + overheadNs + overheadNs + 100 * nsPerByte) / 1e3, 'busy');
  assert.is(s.packets, 3);
  await device.close();
});

test('bad link options and unknown endpoints are refused with USBFN_ERR_INVALID_ARG', async () => {
  for (const link of ['fast', { model: 'timed', turnaroundUs: -1 }, { model: 'timed', turnaround: 5 }, { model: 'slow' }, 7]) {
    assert.throws(() => new EmulatedGenericUsbFn({ link } as unknown as EmulatorOptions), (e: Error & { code?: string }) => e.code === 'USBFN_ERR_INVALID_ARG', JSON.stringify(link));
  }
  const device = await timed('timed');
  await rejectsCode(Promise.resolve().then(() => device.linkStats(0x05)), 'USBFN_ERR_INVALID_ARG');
  await device.close();
});

test.run();
