/**
 * The stand-in's instant native transport (transport.c), which the koffi benchmark stands on:
 * BulkPipe → GenericUsbFnDriver → Win32IoctlDevice → koffi → bulk transfers completed in C at
 * once, never reaching the emulator, while enumeration, setup packets and bus events still do.
 */
import * as assert from 'uvu/assert';
import { BulkPipe } from '../../lib/stream/bulk-pipe.js';
import * as IOCTL from '../../native-defs/ioctl.js';
import { BULK_IN, BULK_OUT, destroyed, openStack } from '../stream/helpers.js';
import { standinBackendWith, type StandinBackendStack } from './backend.js';
import { echoHandler, openFake, standin, standinSuite } from './helpers.js';

const test = standinSuite('stand-in: the instant native transport');
const BULK_CODES = new Set([IOCTL.IOCTL_GENERICUSBFN_TRANSFER_IN, IOCTL.IOCTL_GENERICUSBFN_TRANSFER_IN_APPEND_ZERO_PKT, IOCTL.IOCTL_GENERICUSBFN_TRANSFER_OUT]);

test('a BulkPipe reads the source and writes into the sink with whole buffers, no bulk transfer reaching the emulator', async () => {
  // openStack enumerates and waits for configured: setup packets and bus events still reach the emulator.
  const s = await openStack(standinBackendWith({ instant: { fill: 0x5a } }));
  const id = (s as unknown as StandinBackendStack).standinInterface;
  const reachedEmulator: number[] = [];
  s.device.on('ioctl', (i) => BULK_CODES.has(i.code) && i.pipeId !== 0 && reachedEmulator.push(i.code));
  const pipe = new BulkPipe({ driver: s.driver, link: s.link, out: BULK_OUT, in: BULK_IN, readSize: 512, zlp: 'never' });
  try {
    const chunks: Buffer[] = [];
    await new Promise<void>((resolve) => {
      pipe.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        if (chunks.length === 100) pipe.pause(), resolve();
      });
    });
    assert.ok(chunks.every((c) => c.length === 512 && c.every((b) => b === 0x5a)), 'every read a whole 512 B buffer of the fill byte');
    for (let i = 0; i < 50; i++) pipe.write(Buffer.alloc(512, i));
    await new Promise<void>((resolve, reject) => pipe.write(Buffer.alloc(100), (err) => (err ? reject(err) : resolve())));
    const counts = standin!.instantCounts(id);
    assert.is(counts.sent, 51);
    assert.is(counts.sentBytes, 50 * 512 + 100);
    assert.ok(counts.received >= 100, `${counts.received} reads completed natively`);
    assert.is(counts.receivedBytes, counts.received * 512);
    assert.equal(reachedEmulator, [], 'no bulk transfer reached the emulator');
  } finally {
    await destroyed(pipe);
    await s.close();
  }
});

test('requests completed inside the call settle in the same event-loop turn, yet never starve the loop', async () => {
  const { dev, id, remove } = openFake(echoHandler(0));
  standin!.setInstant(id, true, 7);
  const out = new Uint8Array(64);
  // A new port starts in its blocked call, out on a libuv pool thread; the first completion comes
  // back through that thread, and the harvester polls from then on. Turns are counted from there:
  // how long the pool thread takes to be scheduled (or freed, in a full run where other ports'
  // blocked calls hold pool threads) is the machine's timing, not what this test is about.
  assert.is(await dev.ioctl(IOCTL.IOCTL_GENERICUSBFN_TRANSFER_OUT, Uint8Array.of(1, 0, 0, 0), out), 64);
  let turns = 0;
  let done = false;
  const count = () => void (!done && (turns++, setImmediate(count)));
  setImmediate(count);
  for (let i = 0; i < 2000; i++) assert.is(await dev.ioctl(IOCTL.IOCTL_GENERICUSBFN_TRANSFER_OUT, Uint8Array.of(1, 0, 0, 0), out), 64);
  done = true;
  assert.ok(out.every((b) => b === 7), 'the transport filled the buffer');
  assert.ok(turns > 2000 / 64, `the event loop ran (${turns} turns for 2000 sequential requests)`);
  assert.ok(turns < 1000, `most settled without waiting for a turn (${turns} turns for 2000 requests)`);
  await dev.close();
  remove();
});

test.run();
