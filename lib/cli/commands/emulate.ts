/** `usbfn emulate <script>`: run a user's device script against the emulated host. */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { COMMON_OPTIONS, EXIT_HELP, stringOption, type Command } from '../command.js';
import { CliError, ExitCode, usageError } from '../exit-codes.js';
import { openTarget } from '../target.js';
import { validateDeclaration, vendorBulkDeclaration, type InterfaceDeclaration } from '../../protocols/interface-declaration.js';
import type { UsbFnDevice } from '../../device/device.js';
import type { SimulatedHost } from '../../driver/emulator/host.js';

/** What a device script's default export receives. */
export interface DeviceScriptContext {
  device: UsbFnDevice;
  host: SimulatedHost;
  /** Writes a note to stderr (a JSON line with --json). */
  log(text: string): void;
  /** Aborted on Ctrl-C. */
  signal: AbortSignal;
}

interface DeviceScript {
  default?: (ctx: DeviceScriptContext) => unknown;
  description?: InterfaceDeclaration;
  enumerate?: boolean;
}

async function loadScript(file: string): Promise<DeviceScript> {
  try {
    return (await import(pathToFileURL(path.resolve(file)).href)) as DeviceScript;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ERR_MODULE_NOT_FOUND' && String((err as Error).message).includes(path.resolve(file))) {
      throw usageError(`emulate: no script at ${file}`, 'emulate');
    }
    throw new CliError(ExitCode.FAILURE, `emulate: loading ${file} failed: ${(err as Error).message}`, 'a device script is an ES module (.mjs or .js) with a default export function');
  }
}

export const emulateCommand: Command = {
  name: 'emulate',
  summary: 'run a device script against the emulated host (no hardware needed)',
  help: `usbfn emulate <script.mjs> [--speed S] [--json]

Loads an ES module and runs its default export against the emulated host:

  // echo.mjs
  export const description = undefined;   // optional InterfaceDeclaration (default: vendor bulk 0x81/0x01)
  export default async function ({ device, host, log, signal }) {
    const pipe = device.openPipe();
    pipe.pipe(pipe);                                     // the device: an echo
    await host.bulkOut(0x01, Buffer.from('ping'));       // the host's side
    log(Buffer.from(await host.bulkIn(0x81, 512)).toString());
  }

The host has enumerated the device (at --speed) before the function runs, unless the module
exports \`enumerate = false\`. The device closes when the function returns; a throw exits 1.

  --speed S        full, high (default) or super
  --json           notes as JSON lines on stderr
  -h, --help       this help
${EXIT_HELP}`,
  options: { ...COMMON_OPTIONS, speed: { type: 'string' } },
  positionals: true,
  async run(ctx) {
    const [file, ...extra] = ctx.positionals;
    if (!file) throw usageError('emulate: give the device script to run', 'emulate');
    if (extra.length) throw usageError(`emulate: one script at a time (got ${ctx.positionals.length})`, 'emulate');
    const script = await loadScript(file);
    if (typeof script.default !== 'function') throw usageError(`emulate: ${file} has no default export function`, 'emulate');
    const description = script.description ?? vendorBulkDeclaration();
    validateDeclaration(description);
    const target = await openTarget({ ...ctx, values: { emulate: true, speed: stringOption(ctx.values, 'speed') } }, 'emulate', description);
    try {
      if (script.enumerate !== false) await target.configured();
      // The emulator holds nothing that keeps Node's event loop alive: without this, a script
      // that waits for `signal` (Ctrl-C) would end the process at once (exit 13).
      const keepAlive = setInterval(() => undefined, 1 << 30);
      try {
        await script.default({ device: target.device, host: target.host!, log: (text) => ctx.out.note(String(text)), signal: ctx.io.signal });
      } catch (err) {
        throw new CliError(ExitCode.FAILURE, `emulate: the device script failed: ${(err as Error)?.message ?? String(err)}`, (err as { code?: string })?.code ? `its error code was ${(err as { code?: string }).code}` : undefined);
      } finally {
        clearInterval(keepAlive);
      }
      return ExitCode.OK;
    } finally {
      await target.close();
    }
  },
};
