/**
 * The FunctionFS read path's own CPU cost, natively, without a VM: a fake FunctionFS mount whose
 * OUT endpoint file is /dev/zero (an AIO read of it completes at once, so what is measured is
 * usbfn's per-transfer work plus a kernel memset), a BulkPipe reading from it, beside the bare
 * AioQueue doing the same reads (the floor: koffi, syscalls, the event loop; and again reaping
 * with io_getevents instead of from the completion ring, AioQueue's completionRing: false). Prints µs of CPU
 * per transfer for each; their difference is what the stream layers cost per transfer, which is
 * what bounds throughput where the CPU is slow (benchmarks/ffs-throughput.sh: TCG).
 *
 *   npx tsx benchmarks/ffs-read-path.ts [transfers=4000] [bytes=262144] [depth=8] [copy,lend,swap]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { UsbFnDevice } from '../lib/index.js';
import { FunctionFsDriver } from '../lib/driver/functionfs/ffs-driver.js';
import { AioQueue } from '../lib/driver/functionfs/aio.js';
import { IOCB_CMD_PREAD } from '../native-defs/linux-aio.js';
import { reissueLoop } from './aio-reissue.js';

const [transfers = 4000, bytes = 262144, depth = 8] = process.argv.slice(2, 5).map(Number);
const modes = (process.argv[5] ?? 'copy,lend,swap').split(',') as Array<'copy' | 'lend' | 'swap'>;

/** ep0 a FIFO (this process plays the kernel: BIND, ENABLE), ep1 a file, ep2 /dev/zero. */
async function fakeDevice(): Promise<{ device: UsbFnDevice; done(): Promise<void> }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'usbfn-readpath-'));
  execFileSync('mkfifo', [path.join(dir, 'ep0')]);
  const ep0 = fs.openSync(path.join(dir, 'ep0'), fs.constants.O_RDWR | fs.constants.O_NONBLOCK);
  fs.writeFileSync(path.join(dir, 'ep1'), '');
  fs.symlinkSync('/dev/zero', path.join(dir, 'ep2'));
  const driver = await FunctionFsDriver.open({ mountPoint: dir, function: { endpoints: [{ address: 0x81 }, { address: 0x01 }] }, udc: 'none' });
  fs.readSync(ep0, Buffer.alloc(4096)); // the blobs
  const device = await UsbFnDevice.open({ driver });
  const ev = (type: number) => Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, type, 0, 0, 0]);
  fs.writeSync(ep0, Buffer.concat([ev(0), ev(2)])); // BIND, ENABLE
  await once(device, 'configured');
  return {
    device,
    async done() {
      await device.close();
      fs.closeSync(ep0);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** µs of CPU (user + system) per transfer while `run` moves `n` transfers. */
async function cpuPerTransfer(n: number, run: () => Promise<void>): Promise<number> {
  const t0 = process.cpuUsage();
  await run();
  const t = process.cpuUsage(t0);
  return (t.user + t.system) / n;
}

async function bareAio(n: number, completionRing = true): Promise<void> {
  const aio = new AioQueue({ depth, completionRing });
  const fd = fs.openSync('/dev/zero', 'r');
  await reissueLoop(aio, fd, IOCB_CMD_PREAD, Array.from({ length: depth }, () => Buffer.allocUnsafeSlow(bytes)), n);
  await aio.close();
  fs.closeSync(fd);
}

async function pipeRead(device: UsbFnDevice, mode: 'copy' | 'lend' | 'swap', n: number): Promise<void> {
  const pipe = device.openPipe({ zlp: 'never', readSize: bytes, readsOutstanding: depth, readBuffers: mode });
  let chunks = 0;
  await new Promise<void>((resolve) => {
    pipe.on('data', (chunk: Buffer) => {
      if (mode === 'lend') pipe.returnChunk(chunk);
      if (++chunks === n) (pipe.pause(), resolve());
    });
  });
  pipe.destroy();
  await once(pipe, 'close');
}

const { device, done } = await fakeDevice();
const rows: Array<[string, number[]]> = [['bare AioQueue', []], ['  io_getevents', []], ...modes.map((m): [string, number[]] => [`BulkPipe ${m}`, []])];
for (let round = 0; round < 5; round++) {
  rows[0]![1].push(await cpuPerTransfer(transfers, () => bareAio(transfers)));
  rows[1]![1].push(await cpuPerTransfer(transfers, () => bareAio(transfers, false)));
  for (const [i, mode] of modes.entries()) rows[i + 2]![1].push(await cpuPerTransfer(transfers, () => pipeRead(device, mode, transfers)));
}
await done();
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const floor = median(rows[0]![1]);
console.log(`${transfers} reads of ${bytes} B, ${depth} outstanding, /dev/zero; CPU µs per transfer (median of 5; runs)`);
for (const [name, xs] of rows) console.log(`${name.padEnd(16)} ${median(xs).toFixed(2).padStart(8)}  (${(median(xs) - floor).toFixed(2)} over bare)  ${xs.map((x) => x.toFixed(1)).join(" ")}`);
