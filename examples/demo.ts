/**
 * npm start: a usbfn device and an emulated USB host, in one process.
 *
 * The device side is what you would write for real hardware: it answers class requests on EP0
 * and echoes bulk data with stream.pipeline(). The host side is the emulator's SimulatedHost
 * (`usbfn/emulator`), playing the PC at the other end of the cable: it enumerates the device,
 * sends class requests (one of them unsupported, so it is stalled), streams pseudo-random data
 * out and reads it back, and compares SHA-256 checksums. Everything below the device runs the
 * same GenericUSBFn.sys bytes Windows would see.
 *
 *   npm start                      # 256 MiB
 *   npm start -- --mib 1024        # more data
 *   DEBUG=usbfn:* npm start        # the library's debug log
 */
import { createHash, randomBytes } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { UsbFnDevice, GenericUsbFnDriver, type SetupPacket } from '../lib/index.js';
import { EmulatedGenericUsbFn, type SimulatedHost } from '../lib/driver/emulator/index.js';
import { Progress, mib } from './progress.js';

/** The demo's class requests (bRequest values of a made-up vendor-neutral class). */
const REQ = { GET_VERSION: 0x01, SET_ECHO_LENGTH: 0x02, PING: 0x03, UNSUPPORTED: 0x7f } as const;
const VERSION = 'usbfn demo 1.0';
const CHUNK = 1024 * 1024;

// ------------------------------------------------------------------------ the device side

/**
 * Answers the class requests and runs the echo. Each handler's result answers its request: a
 * Buffer is the data stage, undefined acknowledges; anything without a handler is stalled.
 */
function serveDevice(device: UsbFnDevice): { echoDone: Promise<number> } {
  let startEcho!: (length: number) => void;
  const echoDone = new Promise<number>((resolve, reject) => {
    startEcho = (length) => echo(device, length).then(() => resolve(length), reject);
  });
  device.control.handle({ type: 'class', request: REQ.GET_VERSION }, () => Buffer.from(VERSION));
  device.control.handle({ type: 'class', request: REQ.PING }, () => undefined);
  device.control.handle({ type: 'class', request: REQ.SET_ECHO_LENGTH, direction: 'hostToDevice' }, async (req) => {
    const data = await req.receive();
    startEcho(Number(data.readBigUInt64LE(0)));
  });
  device.on('attach', (speed) => say(`device: attach (${speed} speed)`));
  device.on('reset', (speed) => say(`device: bus reset at ${speed} speed`));
  device.on('configured', (value) => say(`device: configured (configuration ${value}); state ${device.state}`));
  device.on('detach', () => {
    say('device: detached; closing');
    void device.close();
  });
  return { echoDone };
}

/**
 * The echo: host-to-device bytes come back device-to-host through one BulkPipe, with
 * pipeline(). The pipe's readable side never ends by itself (USB has no end-of-stream), so the
 * device takes exactly the length the host announced and then ends the writable side.
 * zlp: 'never' because this is a byte stream; 256 KiB transfers keep more bytes in flight.
 */
function echo(device: UsbFnDevice, length: number): Promise<void> {
  const pipe = device.openPipe({ zlp: 'never', readSize: 256 * 1024 });
  async function* take(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    let left = length;
    for await (const chunk of source) {
      const part = chunk.length > left ? chunk.subarray(0, left) : chunk;
      left -= part.length;
      yield part;
      if (left === 0) return;
    }
  }
  return pipeline(pipe.iterator({ destroyOnReturn: false }), take, pipe);
}

// ------------------------------------------------------------------------ the host side

const classIn = (bRequest: number, wLength: number): SetupPacket => ({ bmRequestType: 0xa1, bRequest, wValue: 0, wIndex: 0, wLength });
const classOut = (bRequest: number, wLength: number): SetupPacket => ({ bmRequestType: 0x21, bRequest, wValue: 0, wIndex: 0, wLength });

/** One control transfer, printed with its outcome. */
async function request(host: SimulatedHost, name: string, setup: SetupPacket, data?: Uint8Array): Promise<void> {
  const what = `host: ${name.padEnd(15)} (class ${setup.bmRequestType & 0x80 ? 'IN ' : 'OUT'}, wLength ${String(setup.wLength).padStart(2)})`;
  try {
    const reply = await host.controlTransfer(setup, data);
    say(`${what} -> ${reply.length ? JSON.stringify(Buffer.from(reply).toString()) : 'acknowledged'}`);
  } catch (err) {
    const code = (err as { code?: string }).code;
    say(`${what} -> ${code === 'USBFN_ERR_STALLED' ? 'STALL (no handler: stalled for us at the end of the tick)' : code}`);
  }
}

/** The host's class requests, the last one announcing the echo length. */
async function classRequests(host: SimulatedHost, total: number): Promise<void> {
  await request(host, 'GET_VERSION', classIn(REQ.GET_VERSION, 64));
  await request(host, 'PING', classOut(REQ.PING, 0));
  await request(host, 'UNSUPPORTED', classIn(REQ.UNSUPPORTED, 8));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(total));
  await request(host, 'SET_ECHO_LENGTH', classOut(REQ.SET_ECHO_LENGTH, 8), length);
}

interface StreamResult {
  seconds: number;
  sent: string;
  received: string;
}

/** Sends `total` bytes to EP 0x01 and reads them back from EP 0x81, hashing both sides. */
async function streamThrough(host: SimulatedHost, total: number): Promise<StreamResult> {
  const block = randomBytes(CHUNK);
  const sent = createHash('sha256');
  const received = createHash('sha256');
  const progress = new Progress('echo', total);
  const started = performance.now();
  const reading = (async () => {
    for (let got = 0; got < total; ) {
      const data = await host.bulkIn(0x81, Math.min(CHUNK, total - got));
      received.update(data);
      got += data.length;
      progress.add(data.length);
    }
  })();
  for (let offset = 0; offset < total; offset += CHUNK) {
    const chunk = block.subarray(0, Math.min(CHUNK, total - offset));
    chunk.writeUInt32LE(offset >>> 0, 0); // every chunk differs, so a lost or repeated one shows
    sent.update(chunk);
    await host.bulkOut(0x01, chunk);
  }
  await reading;
  const seconds = (performance.now() - started) / 1000;
  progress.finish();
  return { seconds, sent: sent.digest('hex'), received: received.digest('hex') };
}

// ------------------------------------------------------------------------ main

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

function megabytes(): number {
  const i = process.argv.indexOf('--mib');
  const n = Number(i >= 0 ? process.argv[i + 1] : process.env.USBFN_DEMO_MIB ?? 256);
  if (!Number.isFinite(n) || n <= 0) throw new Error('--mib takes a positive number');
  return n;
}

async function main(): Promise<void> {
  const total = Math.round(megabytes() * 1024 * 1024);
  const emulated = new EmulatedGenericUsbFn({ interfaceName: 'usbfn-demo', endpoints: [{ address: 0x81 }, { address: 0x01 }] });
  const device = await UsbFnDevice.open({ driver: new GenericUsbFnDriver(emulated) });
  say(`device: opened "${device.classInfo.interfaceName}", pipes ${device.pipes.map((p) => `0x${p.endpointAddress.toString(16).padStart(2, '0')} ${p.type} ${p.direction.toUpperCase()}`).join(', ')}`);
  const closed = new Promise<void>((resolve) => device.once('close', () => resolve()));
  const { echoDone } = serveDevice(device);

  await emulated.host.enumerate({ speed: 'high' });
  await classRequests(emulated.host, total);
  const result = await streamThrough(emulated.host, total);
  await echoDone;

  const match = result.sent === result.received;
  say(`throughput: ${mib(total)} MiB echoed in ${result.seconds.toFixed(2)} s = ${(total / 1e6 / result.seconds).toFixed(1)} MB/s each way`);
  say(`sha256 sent     ${result.sent}`);
  say(`sha256 received ${result.received}  ${match ? 'MATCH' : 'MISMATCH'}`);

  emulated.host.detach(); // the cable is pulled: the device's 'detach' handler closes it
  await closed;
  say(`closed: ${emulated.pending()} IOCTLs pending; the process now exits by itself`);
  if (!match) process.exitCode = 1;
}

main().catch((err) => {
  process.exitCode = 1;
  console.error(err);
});
