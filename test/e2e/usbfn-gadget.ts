/**
 * The usbfn side of the end-to-end test: the device benchmarks/ffs-aio-gadget.c implements in C,
 * written against usbfn's public API on the FunctionFS backend, so the same libusb host checks
 * (test/e2e/host-*.c) and the same throughput host run against both. Started by the guest script
 * inside the VM; the guest binds the UDC once this touched the ready file.
 *
 *   tsx test/e2e/usbfn-gadget.ts <ffs mount> <ready file> [echo|sink|source] [depth] [bytes]
 *
 * echo: one BulkPipe in packet mode, each completed OUT transfer written back as one IN transfer
 * (zlp 'auto': a ZLP after whole packets), so the host sees its own transfer boundaries.
 * sink / source: throughput, no checking. Control requests (class or vendor, interface 0):
 * 0x01 stores the OUT data stage, 0x02 returns it, 0x03 halts bulk IN; others are stalled.
 */
import fs from 'node:fs';
import { once } from 'node:events';
import { UsbFnDevice, type BulkPipe } from '../../lib/index.js';
import type { FunctionDescription } from '../../lib/driver/function-description.js';

const REQ = { STORE: 0x01, LOAD: 0x02, HALT_IN: 0x03 } as const;
const E2E_FUNCTION: FunctionDescription = {
  interfaceClass: [0xff, 0, 0],
  endpoints: [{ address: 0x81 }, { address: 0x01 }],
  interfaceString: 'usbfn e2e',
};

const [mountPoint, readyFile, mode = 'echo', depthArg = '4', bytesArg = String(1088 * 1024)] = process.argv.slice(2);
if (!mountPoint || !readyFile) throw new Error('usage: usbfn-gadget.ts <ffs mount> <ready file> [echo|sink|source] [depth] [bytes]');
const depth = Number(depthArg);
const size = Number(bytesArg);

/** STORE / LOAD / HALT_IN for one request type; anything unhandled is stalled by usbfn. */
function serveControl(device: UsbFnDevice, pipe: BulkPipe): void {
  let stored = Buffer.alloc(0);
  for (const type of ['class', 'vendor'] as const) {
    device.control.handle({ type, request: REQ.STORE, direction: 'hostToDevice' }, async (req) => {
      stored = Buffer.from(await req.receive());
    });
    device.control.handle({ type, request: REQ.LOAD, direction: 'deviceToHost' }, (req) => stored.subarray(0, req.wLength));
    device.control.handle({ type, request: REQ.HALT_IN, direction: 'hostToDevice' }, async (req) => {
      await req.ack();
      await pipe.stall('in');
    });
  }
}

async function echo(pipe: BulkPipe): Promise<void> {
  for await (const transfer of pipe) if (!pipe.write(transfer)) await once(pipe, 'drain');
}

async function sink(pipe: BulkPipe): Promise<void> {
  for await (const transfer of pipe) void transfer;
}

async function source(pipe: BulkPipe): Promise<void> {
  const block = Buffer.alloc(size, 0x5a);
  for (;;) if (!pipe.write(block)) await once(pipe, 'drain');
}

const device = await UsbFnDevice.open({ functionfs: { mountPoint, function: E2E_FUNCTION } });
const pipe = device.openPipe({
  packetMode: mode === 'echo',
  zlp: mode === 'echo' ? 'auto' : 'never',
  readSize: size,
  readsOutstanding: depth,
  writesInFlight: depth,
});
pipe.on('error', (err: Error) => process.stderr.write(`usbfn-gadget: pipe error ${err.message}\n`));
serveControl(device, pipe);
fs.writeFileSync(readyFile, '');
process.stderr.write(`usbfn-gadget: ready (${mode}, depth ${depth}, ${size}-byte transfers)\n`);
await (mode === 'sink' ? sink(pipe) : mode === 'source' ? source(pipe) : echo(pipe));
