/**
 * The `usbfn` command's dispatcher: picks the subcommand, parses its options with
 * node:util parseArgs (strict: unknown options are usage errors), prints help, runs it, and
 * turns every failure into a message with a hint and a meaningful exit code (exit-codes.ts).
 */
import { parseArgs } from 'node:util';
import type { Command } from './command.js';
import { CliError, ExitCode, describeFailure, usageError } from './exit-codes.js';
import { Output, type CliIO } from './output.js';
import { listCommand } from './commands/list.js';
import { infoCommand } from './commands/info.js';
import { loopbackCommand } from './commands/loopback.js';
import { serialCommand } from './commands/serial.js';
import { emulateCommand } from './commands/emulate.js';
import { benchCommand } from './commands/bench.js';
import { windowsConfigCommand } from './commands/windows-config.js';

export type { CliIO } from './output.js';

export const COMMANDS: readonly Command[] = [listCommand, infoCommand, loopbackCommand, serialCommand, emulateCommand, benchCommand, windowsConfigCommand];

function mainHelp(version: string): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return `usbfn ${version}: act as a USB device from Node.js

Usage: usbfn <command> [options]     usbfn <command> --help for its options

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

Most commands take --emulate to run against the in-process emulated host, and --json.
Exit codes: 0 ok, 1 failure, 2 usage error, 3 unavailable here, 4 not found, 5 data mismatch,
130 interrupted.`;
}

/** Runs one command line (argv without node and the script); resolves with the exit code. */
export async function runCli(argv: string[], io: CliIO, version = '0.0.0'): Promise<number> {
  const json = argv.includes('--json');
  const out = new Output(io, json);
  const [name, ...rest] = argv;
  try {
    if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
      io.stdout.write(`${mainHelp(version)}\n`);
      return name === undefined ? ExitCode.USAGE : ExitCode.OK;
    }
    if (name === '--version' || name === '-v') {
      io.stdout.write(`${version}\n`);
      return ExitCode.OK;
    }
    const command = COMMANDS.find((c) => c.name === name);
    if (!command) throw usageError(`unknown command ${JSON.stringify(name)}; commands: ${COMMANDS.map((c) => c.name).join(', ')}`);
    let parsed: ReturnType<typeof parseArgs>;
    try {
      parsed = parseArgs({ args: rest, options: command.options, allowPositionals: command.positionals === true, strict: true });
    } catch (err) {
      throw usageError(`${name}: ${(err as Error).message}`, name);
    }
    if (parsed.values.help) {
      io.stdout.write(`${command.help}\n`);
      return ExitCode.OK;
    }
    const code = await command.run({ values: parsed.values as Record<string, string | boolean | undefined>, positionals: parsed.positionals, out, io });
    return code ?? ExitCode.OK;
  } catch (err) {
    const failure = describeFailure(io.signal.aborted && !(err instanceof CliError) ? new CliError(ExitCode.INTERRUPTED, `${name}: interrupted`) : err);
    out.error(failure);
    return failure.exitCode;
  }
}
