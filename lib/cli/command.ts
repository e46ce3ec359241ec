/** What every `usbfn` subcommand is: its options for node:util parseArgs, its help, its run(). */
import type { ParseArgsConfig } from 'node:util';
import type { CliIO, Output } from './output.js';
import type { ExitCodeValue } from './exit-codes.js';

export type OptionValues = Record<string, string | boolean | undefined>;

/** What run() gets: parsed options and positionals, and the output. */
export interface CommandContext {
  values: OptionValues;
  positionals: string[];
  out: Output;
  io: CliIO;
}

export interface Command {
  name: string;
  /** One line for `usbfn --help`. */
  summary: string;
  /** The full `usbfn <name> --help` text (usage, options, examples, exit codes). */
  help: string;
  options: NonNullable<ParseArgsConfig['options']>;
  /** Whether positionals are allowed (default: none). */
  positionals?: boolean;
  /** Resolves with the exit code (default 0); throws CliError / UsbFnError on failure. */
  run(ctx: CommandContext): Promise<ExitCodeValue | void>;
}

/** --json and --help, which every command takes. */
export const COMMON_OPTIONS = {
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** The options of commands that open a device: the emulator, its speed, the Windows interface GUID. */
export const DEVICE_OPTIONS = {
  emulate: { type: 'boolean' },
  speed: { type: 'string' },
  guid: { type: 'string' },
  ffs: { type: 'string' },
  gadget: { type: 'boolean' },
} as const;

export const DEVICE_HELP = `  --emulate        run against the in-process emulated host (no hardware needed)
  --speed S        emulated link speed: full, high (default) or super
  --guid {GUID}    Windows: the InterfaceGUID of the GenericUSBFn interface to open
  --ffs DIR        Linux: an existing FunctionFS mount to open (FunctionFS backend)
  --gadget         Linux: let usbfn create and bind a configfs gadget itself (root)`;

export const EXIT_HELP = `Exit codes: 0 ok, 1 failure, 2 usage error, 3 unavailable here (backend or platform),
4 device not found, 5 data mismatch, 130 interrupted.`;

/** A string option's value, or undefined. */
export function stringOption(values: OptionValues, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}
