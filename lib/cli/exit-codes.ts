/**
 * The `usbfn` command's exit codes, and CliError: a failure with the code to exit with and a
 * hint saying what to do next. UsbFnErrors from the library map onto these codes by their code.
 */
import { ErrorCodes, isUsbFnError } from '../errors.js';

export const ExitCode = Object.freeze({
  /** The command did what it was asked. */
  OK: 0,
  /** It failed at run time (a driver, device or script error). */
  FAILURE: 1,
  /** The command line was wrong (unknown command or option, bad value): see --help. */
  USAGE: 2,
  /** What it needs is not available here (no backend for this platform, no UDC). */
  UNAVAILABLE: 3,
  /** The device (interface GUID, path) was not found. */
  NOT_FOUND: 4,
  /** Data came back different (loopback verification). */
  MISMATCH: 5,
  /** Interrupted (SIGINT/SIGTERM) before the work was done. */
  INTERRUPTED: 130,
} as const);

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** A failure the CLI reports as `usbfn: <message>` + `hint`, exiting with `exitCode`. */
export class CliError extends Error {
  constructor(
    readonly exitCode: ExitCodeValue,
    message: string,
    readonly hint?: string,
    readonly code = exitCode === ExitCode.USAGE ? 'USBFN_CLI_USAGE' : 'USBFN_CLI_ERROR',
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** A usage error (exit 2) pointing at the command's --help. */
export function usageError(message: string, command?: string): CliError {
  return new CliError(ExitCode.USAGE, message, `run \`usbfn ${command ? `${command} ` : ''}--help\``);
}

type Failure = { exitCode: ExitCodeValue; code: string; message: string; hint?: string };

/** What to do next when nothing more specific is known: the library's debug log shows what it did. */
const NOT_FOUND_HINT = 'check the InterfaceGUID (usbfn windows-config shows what to declare) and that the interface is in CurrentConfiguration; on Linux, the --ffs mount point (usbfn list shows them)';

const DEBUG_HINT = 'run the command again with DEBUG=usbfn:* to see what the library did';

/**
 * The exit code, stable code and hint for any error a command threw. Every failure but an
 * interruption says what to do next (the README promises it).
 */
export function describeFailure(err: unknown): Failure {
  const failure = classifyFailure(err);
  if (failure.hint === undefined && failure.exitCode !== ExitCode.INTERRUPTED) failure.hint = DEBUG_HINT;
  return failure;
}

function classifyFailure(err: unknown): Failure {
  if (err instanceof CliError) return { exitCode: err.exitCode, code: err.code, message: err.message, hint: err.hint };
  const message = err instanceof Error ? err.message : String(err);
  if (!isUsbFnError(err)) return { exitCode: ExitCode.FAILURE, code: 'USBFN_CLI_ERROR', message };
  switch (err.code) {
    case ErrorCodes.PLATFORM:
    case ErrorCodes.NOT_SUPPORTED:
      return { exitCode: ExitCode.UNAVAILABLE, code: err.code, message, hint: 'try the same command with --emulate to run against the emulated host' };
    case ErrorCodes.NOT_FOUND:
      return { exitCode: ExitCode.NOT_FOUND, code: err.code, message, hint: NOT_FOUND_HINT };
    case ErrorCodes.INVALID_ARG:
      return { exitCode: ExitCode.USAGE, code: err.code, message, hint: 'check the option values (--help)' };
    default:
      return { exitCode: ExitCode.FAILURE, code: err.code, message };
  }
}
