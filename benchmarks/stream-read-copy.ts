/**
 * Question: should a completed TRANSFER_OUT be copied out of a fixed pool buffer ('pool-copy',
 * what BulkReader does) or received straight into a fresh buffer per transfer that is pushed
 * as is ('fresh', no copy, one allocation per transfer)?
 *
 * Workload: host-to-device only; the simulated host sends `--mib` MiB in 4 MiB transfers, the
 * device reads with 4 outstanding TRANSFER_OUT and a consumer discards each chunk. Both
 * strategies run in the same minimal Readable (readable-stream, FIFO delivery, reads issued
 * only while the stream has room); BulkReader itself is measured with readBuffers 'copy' and
 * 'swap' (the latter: no copy for reads at least half full). Fresh process per run.
 *
 *   npx tsx benchmarks/stream-read-copy.ts [--runs 5] [--mib 256]
 */
import { Readable } from 'readable-stream';
import { BulkReader } from '../lib/stream/bulk-pipe.js';
import { BULK_OUT, MiB, childConfig, fmt, measure, openBenchStack, option, runChild, summarize, writeResult, type BenchStack } from './stream-stack.js';

type Strategy = 'pool-copy' | 'fresh' | 'BulkReader copy' | 'BulkReader swap';

interface Config {
  strategy: Strategy;
  readSize: number;
  mib: number;
}

const OUTSTANDING = 4;

/** A Readable over TRANSFER_OUT with `OUTSTANDING` reads, delivering in order, by `strategy`. */
function strategyReader(stack: BenchStack, strategy: 'pool-copy' | 'fresh', readSize: number): Readable {
  const pipeId = stack.link.pipe(BULK_OUT)!.pipeId;
  const pool: Buffer[] = Array.from({ length: OUTSTANDING }, () => Buffer.allocUnsafeSlow(readSize));
  const slots: Array<{ buf: Buffer; n: number }> = [];
  let wanted = false;
  const stream = new Readable({
    highWaterMark: OUTSTANDING * readSize,
    read() {
      wanted = true;
      issue();
    },
  });
  const issue = () => {
    while (wanted && slots.length < OUTSTANDING) {
      const buf = strategy === 'fresh' ? Buffer.allocUnsafe(readSize) : pool.pop()!;
      const slot = { buf, n: -1 };
      slots.push(slot);
      stack.driver.transferOut(pipeId, buf).then((n) => {
        slot.n = n;
        while (slots.length > 0 && slots[0].n >= 0) deliver(slots.shift()!);
        issue();
      }, () => {}); // cancelled when the stream is destroyed at the end
    }
  };
  const deliver = ({ buf, n }: { buf: Buffer; n: number }) => {
    let chunk: Buffer;
    if (strategy === 'fresh') chunk = buf.subarray(0, n);
    else {
      chunk = Buffer.allocUnsafe(n);
      buf.copy(chunk, 0, 0, n);
      pool.push(buf);
    }
    if (!stream.push(chunk)) wanted = false;
  };
  return stream;
}

async function child(c: Config): Promise<{ mbps: number; cpuPerGB: number }> {
  const stack = await openBenchStack();
  const reader = c.strategy.startsWith('BulkReader')
    ? new BulkReader({
      driver: stack.driver, link: stack.link, out: BULK_OUT, readsOutstanding: OUTSTANDING, readSize: c.readSize,
      readBuffers: c.strategy === 'BulkReader swap' ? 'swap' : 'copy',
    })
    : strategyReader(stack, c.strategy as 'pool-copy' | 'fresh', c.readSize);
  let received = 0;
  let target = 0;
  let done: () => void = () => {};
  reader.on('data', (chunk: Buffer) => {
    received += chunk.length;
    if (received >= target) done();
  });
  const block = Buffer.alloc(4 * MiB, 0x33);
  const run = async (bytes: number) => {
    target = received + bytes;
    const all = new Promise<void>((resolve) => (done = resolve));
    for (let sent = 0; sent < bytes; sent += block.length) await stack.device.host.bulkOut(BULK_OUT, block);
    await all;
  };
  const result = await measure(c.mib * MiB, 16 * MiB, run);
  reader.destroy();
  await stack.close();
  return result;
}

function parent(): void {
  const runs = option('runs', 5);
  const mib = option('mib', 256);
  const script = new URL(import.meta.url).pathname;
  const rows = [];
  console.log(`host-to-device, ${OUTSTANDING} reads outstanding, ${mib} MiB per run, ${runs} runs, fresh process each`);
  console.log('read size | strategy        | MB/s median (min..max)   | CPU s/GB');
  for (const readSize of [16 * 1024, 64 * 1024, 256 * 1024]) {
    const samples: Record<Strategy, Array<{ mbps: number; cpuPerGB: number }>> = { 'pool-copy': [], fresh: [], 'BulkReader copy': [], 'BulkReader swap': [] };
    for (let r = 0; r < runs; r++) {
      for (const strategy of Object.keys(samples) as Strategy[]) samples[strategy].push(runChild(script, { strategy, readSize, mib }));
    }
    for (const strategy of Object.keys(samples) as Strategy[]) {
      const mbps = summarize(samples[strategy].map((s) => s.mbps));
      const cpu = summarize(samples[strategy].map((s) => s.cpuPerGB));
      rows.push({ readSize, strategy, mbps, cpuPerGB: cpu });
      console.log(`${String(readSize / 1024).padStart(5)} KiB | ${strategy.padEnd(15)} | ${fmt(mbps).padEnd(24)} | ${fmt(cpu, 2)}`);
    }
  }
  console.log(`\nwritten to ${writeResult('stream-read-copy', { node: process.version, runs, mib, outstanding: OUTSTANDING, rows })}`);
}

const config = childConfig<Config>();
if (config) console.log(JSON.stringify(await child(config)));
else parent();
