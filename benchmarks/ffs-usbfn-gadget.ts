/**
 * usbfn's side of benchmarks/ffs-throughput.sh: the device benchmarks/ffs-aio-gadget.c is in
 * sink / source mode, as one BulkPipe on FunctionFS through usbfn's public API, `depth` requests
 * of `bytes` each outstanding, like the C reference. Bundled into plain JavaScript by
 * ffs-throughput.sh and run by node inside the end-to-end VM (benchmarks/ffs-throughput-guest.sh).
 *
 *   node ffs-usbfn-gadget.mjs <ffs mount> <ready file> sink|source <depth> <bytes> [copy|lend|swap|iterate|hwm1|raw]
 *
 * sink reads with 'data' events; its last argument is how:
 *   copy (default): readBuffers 'copy', what a BulkPipe does unless told otherwise;
 *   lend: readBuffers 'lend', each chunk returned at once (no copy: the C sink copies nothing);
 *   swap: readBuffers 'swap' (a full read's buffer is handed over, the pool allocates anew);
 *   raw: no stream, the AioQueue alone (see rawPeer; also as a source);
 *   iterate: `for await` over the pipe, readBuffers 'copy' (a byte stream's iterator joins chunks).
 * source writes one `bytes`-long block again and again, waiting for 'drain' when asked to
 * (BulkPipe's default writableHighWaterMark is writesInFlight × readSize: asked every depth
 * writes); hwm1: writableHighWaterMark one block, the old default (every write asks to wait).
 * SIGTERM ends the process with exit(): node --cpu-prof writes its profile only on a real exit.
 */
import fs from 'node:fs';
import { once } from 'node:events';
import { UsbFnDevice, type BulkPipe } from '../lib/index.js';
import type { FunctionDescription } from '../lib/driver/function-description.js';
import { reissueLoop } from './aio-reissue.js';

/** The endpoints of the C reference (bulk IN 0x81, bulk OUT 0x01, vendor class). */
const BENCH_FUNCTION: FunctionDescription = {
  interfaceClass: [0xff, 0, 0],
  endpoints: [{ address: 0x81 }, { address: 0x01 }],
  interfaceString: 'usbfn bench',
};

type SinkKind = 'copy' | 'lend' | 'swap' | 'iterate' | 'hwm1' | 'raw';

/**
 * 'raw': no BulkPipe at all, usbfn's AioQueue alone reading the OUT endpoint file (ep2, sink)
 * or writing the IN one (ep1, source) with `depth` fixed buffers, each re-issued from its
 * completion: what node + koffi + Linux AIO cost a transfer, the floor under any stream on top
 * (the device itself still answers ep0). Ends quietly when the endpoint goes (unbind).
 */
async function rawPeer(device: UsbFnDevice, mode: 'sink' | 'source', depth: number, size: number): Promise<unknown> {
  const { AioQueue } = await import('../lib/driver/functionfs/aio.js');
  const { IOCB_CMD_PREAD, IOCB_CMD_PWRITE } = await import('../native-defs/linux-aio.js');
  if (!device.configured) await once(device, 'configured'); // FunctionFS holds transfers until ENABLE
  const aio = new AioQueue({ depth });
  const fd = fs.openSync(`${mountPoint}/${mode === 'sink' ? 'ep2' : 'ep1'}`, 'r+');
  const opcode = mode === 'sink' ? IOCB_CMD_PREAD : IOCB_CMD_PWRITE;
  const buffers = Array.from({ length: depth }, () => Buffer.alloc(size, 0x5a));
  return reissueLoop(aio, fd, opcode, buffers).catch(() => undefined); // the endpoint went: over
}

function sink(pipe: BulkPipe, kind: SinkKind): Promise<unknown> {
  if (kind === 'iterate') return (async () => { for await (const chunk of pipe) void chunk; })();
  if (kind === 'lend') pipe.on('data', (chunk: Buffer) => pipe.returnChunk(chunk));
  else pipe.on('data', () => undefined);
  return once(pipe, 'close');
}

/** Writes until write() says the buffer is full, then again on 'drain': the classic Writable loop. */
function source(pipe: BulkPipe, size: number): Promise<unknown> {
  const block = Buffer.alloc(size, 0x5a);
  const fill = () => {
    while (pipe.write(block));
    pipe.once('drain', fill);
  };
  fill();
  return once(pipe, 'close');
}

const [mountPoint, readyFile, mode, depthArg, bytesArg, sinkArg = 'copy'] = process.argv.slice(2);
if (!mountPoint || !readyFile || (mode !== 'sink' && mode !== 'source') || !['copy', 'lend', 'swap', 'iterate', 'hwm1', 'raw'].includes(sinkArg)) {
  throw new Error('usage: ffs-usbfn-gadget <ffs mount> <ready file> sink|source <depth> <bytes> [copy|lend|swap|iterate|hwm1|raw]');
}
const depth = Number(depthArg);
const size = Number(bytesArg);
process.on('SIGTERM', () => process.exit(0));

const device = await UsbFnDevice.open({ functionfs: { mountPoint, function: BENCH_FUNCTION } });
const raw = sinkArg === 'raw';
const pipe = raw ? null : device.openPipe({
  zlp: 'never',
  readSize: size,
  readsOutstanding: depth,
  writesInFlight: depth,
  readBuffers: sinkArg === 'lend' || sinkArg === 'swap' ? sinkArg : 'copy',
  ...(sinkArg === 'hwm1' ? { writableHighWaterMark: size } : {}),
});
pipe?.on('error', (err: Error) => process.stderr.write(`ffs-usbfn-gadget: pipe error ${err.message}\n`));
fs.writeFileSync(readyFile, '');
process.stderr.write(`ffs-usbfn-gadget: ready (${mode}${mode === 'sink' || raw ? ` ${sinkArg}` : ''}, depth ${depth}, ${size}-byte transfers)\n`);
await (pipe === null ? rawPeer(device, mode, depth, size) : mode === 'sink' ? sink(pipe, sinkArg as SinkKind) : source(pipe, size));
