/**
 * Byte-stream framing on a serial function is serialport's job, not ours: its parsers
 * (@serialport/parser-readline, -delimiter, -slip-encoder, -packet-length) are plain Transform
 * streams and pipe onto usbfn streams unchanged. The host splits its writes at awkward places
 * to show the parsers reassemble across transfers.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ReadlineParser } from '@serialport/parser-readline';
import { DelimiterParser } from '@serialport/parser-delimiter';
import { SlipDecoder, SlipEncoder } from '@serialport/parser-slip-encoder';
import { PacketLengthParser } from '@serialport/parser-packet-length';
import { openSerialFunction } from '../../lib/protocols/serial-function.js';
import { serialInterfaceDeclaration } from '../../lib/protocols/cdc-acm.js';
import { closeAll, openEmulated } from './helpers.js';
import { waitUntil } from '../wait.js';

const test = suite('serialport parsers on usbfn streams');
test.after.each(closeAll);

const DATA_OUT = 0x02;
const DATA_IN = 0x81;

async function serial() {
  const s = await openEmulated(serialInterfaceDeclaration());
  return { ...s, port: await openSerialFunction(s.device) };
}

test('ReadlineParser turns host writes split mid-line into lines', async () => {
  const { host, port } = await serial();
  const lines: string[] = [];
  port.pipe(new ReadlineParser({ delimiter: '\r\n' })).on('data', (l: string) => lines.push(l));
  for (const piece of ['AT+GMR\r', '\nOK\r\nERR', 'OR\r\n']) await host.bulkOut(DATA_OUT, Buffer.from(piece));
  await waitUntil(() => lines.length === 3, 'three lines');
  assert.equal(lines, ['AT+GMR', 'OK', 'ERROR']);
  port.destroy();
});

test('DelimiterParser splits on a byte delimiter', async () => {
  const { host, port } = await serial();
  const frames: Buffer[] = [];
  port.pipe(new DelimiterParser({ delimiter: Buffer.from([0x00]) })).on('data', (f: Buffer) => frames.push(f));
  await host.bulkOut(DATA_OUT, Buffer.from([1, 2, 0, 3]));
  await host.bulkOut(DATA_OUT, Buffer.from([4, 0]));
  await waitUntil(() => frames.length === 2, 'two frames');
  assert.equal(frames.map((f) => [...f]), [[1, 2], [3, 4]]);
  port.destroy();
});

test('SlipEncoder on the device side, SlipDecoder on the host side: packets with END/ESC bytes survive', async () => {
  const { host, port } = await serial();
  const encoder = new SlipEncoder();
  encoder.pipe(port);
  const packets = [Buffer.from([0xc0, 1, 0xdb, 2]), Buffer.from('plain')];
  for (const p of packets) encoder.write(p);
  const decoder = new SlipDecoder();
  const decoded: Buffer[] = [];
  decoder.on('data', (p: Buffer) => decoded.push(p));
  while (decoded.length < 2) decoder.write(Buffer.from(await host.bulkIn(DATA_IN, 512, { timeoutMs: 5000 })));
  assert.equal(decoded.map((p) => [...p]), packets.map((p) => [...p]));
  port.destroy();
});

test('PacketLengthParser extracts length-prefixed packets spread over several transfers', async () => {
  const { host, port } = await serial();
  const packets: Buffer[] = [];
  port.pipe(new PacketLengthParser({ delimiter: 0xaa, packetOverhead: 2, lengthBytes: 1, lengthOffset: 1 })).on('data', (p: Buffer) => packets.push(p));
  const wire = Buffer.from([0xaa, 3, 7, 8, 9, 0xaa, 1, 5]);
  await host.bulkOut(DATA_OUT, wire.subarray(0, 3));
  await host.bulkOut(DATA_OUT, wire.subarray(3));
  await waitUntil(() => packets.length === 2, 'two packets');
  assert.equal(packets.map((p) => [...p]), [[0xaa, 3, 7, 8, 9], [0xaa, 1, 5]]);
  port.destroy();
});

test.run();
