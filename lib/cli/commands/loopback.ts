/** `usbfn loopback`: an echo device: every byte the host sends on bulk OUT comes back on bulk IN. */
import { COMMON_OPTIONS, DEVICE_HELP, DEVICE_OPTIONS, EXIT_HELP, stringOption, type Command, type CommandContext } from '../command.js';
import { CliError, ExitCode, type ExitCodeValue } from '../exit-codes.js';
import { describeFunction } from '../describe.js';
import { openTarget, type Target } from '../target.js';
import { firstDifference, hostReceive, hostSend, megabytesPerSecond, testPattern } from '../host-traffic.js';
import { parseSize } from '../sizes.js';

async function verifyEcho(ctx: CommandContext, target: Target, total: number, chunk: number): Promise<ExitCodeValue> {
  const host = target.host!;
  const data = testPattern(total);
  const started = performance.now();
  // Both at once, and both awaited: on Ctrl-C each rejects, and neither may go unhandled.
  const [back] = await Promise.all([
    hostReceive(host, 0x81, total, chunk, (n) => ctx.out.progress('echoed', n, total), ctx.io.signal),
    hostSend(host, 0x01, data, chunk, () => undefined, ctx.io.signal),
  ]);
  const ms = performance.now() - started;
  const mismatch = firstDifference(data, back);
  const result = { bytes: total, chunk, ms: Math.round(ms), megabytesPerSecond: megabytesPerSecond(total, ms), byteExact: mismatch < 0, firstMismatch: mismatch < 0 ? null : mismatch };
  ctx.out.result(result, mismatch < 0
    ? `${total} bytes echoed byte-exact in ${result.ms} ms (${result.megabytesPerSecond} MB/s, emulated host)`
    : `echo differs from what was sent at byte ${mismatch}`);
  return mismatch < 0 ? ExitCode.OK : ExitCode.MISMATCH;
}

/** A real host: echo until SIGINT/SIGTERM, then report the byte count. */
async function serveEcho(ctx: CommandContext, target: Target): Promise<ExitCodeValue> {
  const pipe = target.device.openPipe();
  let bytes = 0;
  pipe.on('data', (c: Buffer) => (bytes += c.length));
  pipe.pipe(pipe);
  ctx.out.note('echo device running; stop with Ctrl-C');
  await new Promise((resolve) => ctx.io.signal.addEventListener('abort', resolve, { once: true }));
  ctx.out.result({ bytes }, `${bytes} bytes echoed`);
  return ExitCode.OK;
}

export const loopbackCommand: Command = {
  name: 'loopback',
  summary: 'run an echo device (bulk OUT comes back on bulk IN); with --emulate, verify it',
  help: `usbfn loopback [--emulate] [--bytes N] [--chunk N] [--json]

An echo device on the vendor bulk interface. With --emulate the emulated host sends --bytes
(default 16M) in transfers of --chunk (default 64k), reads the echo back, checks it byte for
byte and reports the throughput; progress goes to stderr. With a real host it echoes until
Ctrl-C.

${DEVICE_HELP}
  --bytes N        emulated: bytes to send (65536, 64k, 16M); default 16M
  --chunk N        emulated: bytes per host transfer; default 64k
  --json           one JSON document on stdout
  -h, --help       this help

Example: usbfn loopback --emulate --bytes 4M
${EXIT_HELP}`,
  options: { ...COMMON_OPTIONS, ...DEVICE_OPTIONS, bytes: { type: 'string' }, chunk: { type: 'string' } },
  async run(ctx) {
    const total = parseSize(stringOption(ctx.values, 'bytes'), 16 * 1024 * 1024, 'bytes', 'loopback');
    const chunk = parseSize(stringOption(ctx.values, 'chunk'), 64 * 1024, 'chunk', 'loopback');
    const target = await openTarget(ctx, 'loopback', describeFunction({}, 'loopback', 'bulk'));
    try {
      await target.configured();
      if (!target.emulated) return await serveEcho(ctx, target);
      const pipe = target.device.openPipe();
      pipe.pipe(pipe);
      return await verifyEcho(ctx, target, total, chunk);
    } catch (err) {
      if (ctx.io.signal.aborted) throw new CliError(ExitCode.INTERRUPTED, 'loopback: interrupted');
      throw err;
    } finally {
      await target.close();
    }
  },
};
