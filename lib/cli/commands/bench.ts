/** `usbfn bench`: bulk throughput each way through the whole stack, on the emulated host. */
import { once } from 'node:events';
import { COMMON_OPTIONS, DEVICE_HELP, DEVICE_OPTIONS, EXIT_HELP, stringOption, type Command, type CommandContext } from '../command.js';
import { CliError, ExitCode } from '../exit-codes.js';
import { describeFunction } from '../describe.js';
import { openTarget, type Target } from '../target.js';
import { hostReceive, hostSend, megabytesPerSecond, testPattern } from '../host-traffic.js';
import { parseSize } from '../sizes.js';

interface Row {
  direction: 'host-to-device' | 'device-to-host';
  bytes: number;
  ms: number;
  megabytesPerSecond: number;
}

/** Host → device: the device reads and discards. */
async function benchOut(ctx: CommandContext, target: Target, total: number, chunk: number): Promise<Row> {
  const reader = target.device.openReader();
  let got = 0;
  const drained = new Promise<void>((resolve) => reader.on('data', (c: Buffer) => (got += c.length) >= total && resolve()));
  const started = performance.now();
  await hostSend(target.host!, 0x01, testPattern(total), chunk, (n) => ctx.out.progress('host-to-device', n, total), ctx.io.signal);
  await drained;
  const ms = performance.now() - started;
  reader.destroy();
  return { direction: 'host-to-device', bytes: total, ms: Math.round(ms), megabytesPerSecond: megabytesPerSecond(total, ms) };
}

/** Device → host: the device writes `chunk`-sized buffers, the host reads. */
async function benchIn(ctx: CommandContext, target: Target, total: number, chunk: number): Promise<Row> {
  const writer = target.device.openWriter();
  const block = testPattern(chunk);
  const started = performance.now();
  const reading = hostReceive(target.host!, 0x81, total, chunk, (n) => ctx.out.progress('device-to-host', n, total), ctx.io.signal);
  // Ctrl-C rejects `reading` while this loop runs: it is awaited below, never left unhandled,
  // and the wait for 'drain' (which would never come) ends with the signal.
  reading.catch(() => undefined);
  for (let sent = 0; sent < total && !ctx.io.signal.aborted; sent += chunk) {
    if (!writer.write(block.subarray(0, Math.min(chunk, total - sent)))) await once(writer, 'drain', { signal: ctx.io.signal }).catch(() => undefined);
  }
  await reading;
  const ms = performance.now() - started;
  writer.destroy();
  return { direction: 'device-to-host', bytes: total, ms: Math.round(ms), megabytesPerSecond: megabytesPerSecond(total, ms) };
}

export const benchCommand: Command = {
  name: 'bench',
  summary: 'measure bulk throughput each way through the whole stack (emulated host)',
  help: `usbfn bench --emulate [--bytes N] [--chunk N] [--json]

Moves --bytes (default 64M) host-to-device and then device-to-host on the vendor bulk
interface in transfers of --chunk (default 256k) and prints MB/s for each. The emulated host
has no bus timing: the figures are the cost of usbfn's own stack (streams, driver marshalling,
emulated driver), a ceiling for real hardware, not a prediction of it.

${DEVICE_HELP}
  --bytes N        bytes per direction (default 64M)
  --chunk N        bytes per transfer (default 256k)
  --json           one JSON document on stdout
  -h, --help       this help
${EXIT_HELP}`,
  options: { ...COMMON_OPTIONS, ...DEVICE_OPTIONS, bytes: { type: 'string' }, chunk: { type: 'string' } },
  async run(ctx) {
    const total = parseSize(stringOption(ctx.values, 'bytes'), 64 * 1024 * 1024, 'bytes', 'bench');
    const chunk = parseSize(stringOption(ctx.values, 'chunk'), 256 * 1024, 'chunk', 'bench');
    if (!ctx.values.emulate) {
      throw new CliError(ExitCode.UNAVAILABLE, 'bench: measuring needs a host program at the far end; this build measures against the emulated host only', 'add --emulate (for a real host, run `usbfn loopback` on the device and time your host program)', 'USBFN_ERR_NOT_SUPPORTED');
    }
    const target = await openTarget(ctx, 'bench', describeFunction({}, 'bench', 'bulk'));
    try {
      await target.configured();
      const rows = [await benchOut(ctx, target, total, chunk), await benchIn(ctx, target, total, chunk)];
      ctx.out.result({ emulated: true, chunk, results: rows }, [
        `direction        bytes        ms     MB/s   (emulated host, ${chunk}-byte transfers)`,
        ...rows.map((r) => `${r.direction.padEnd(15)}  ${String(r.bytes).padEnd(11)}  ${String(r.ms).padStart(6)}  ${String(r.megabytesPerSecond).padStart(7)}`),
      ]);
      return ExitCode.OK;
    } catch (err) {
      if (ctx.io.signal.aborted) throw new CliError(ExitCode.INTERRUPTED, 'bench: interrupted');
      throw err;
    } finally {
      await target.close();
    }
  },
};
