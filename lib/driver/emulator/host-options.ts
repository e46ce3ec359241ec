/**
 * Checks of the SimulatedHost's options: unknown keys (`timeout` for `timeoutMs`), a speed the
 * bus does not have (`'ultra'`), a timeout that is not a duration, a signal that is not an
 * AbortSignal. A typo in a test's host call would otherwise be ignored and the test would wait
 * forever or test something else. Every failure is a UsbFnError USBFN_ERR_INVALID_ARG.
 */
import { BUS_SPEEDS } from '../driver.js';
import type { UsbFnError } from '../../errors.js';
import { checkInteger, checkOneOf, checkOptions, checkSignal, checkType, describe, invalidArg } from '../../validate.js';

/** Throws INVALID_ARG for options SimulatedHost.enumerate() cannot act on. */
export function checkEnumerateOptions(options: unknown): void {
  const op = 'enumerate';
  checkOptions(op, options, ['speed', 'configuration', 'timeoutMs', 'waitForDevice']);
  const o = (options ?? {}) as Record<string, unknown>;
  checkSpeed(op, o.speed);
  checkInteger(op, 'configuration', o.configuration, 1, 255);
  checkTimeout(op, o.timeoutMs);
  checkType(op, 'waitForDevice', o.waitForDevice, 'boolean');
}

/**
 * The options every host transfer takes ({ signal, timeoutMs }) plus `extra` keys: returns the
 * INVALID_ARG error (host calls reject rather than throw), or undefined when they are fine.
 */
export function checkHostOpOptions(operation: string, options: unknown, extra: readonly string[] = []): UsbFnError | undefined {
  try {
    checkOptions(operation, options, ['signal', 'timeoutMs', ...extra]);
    const o = (options ?? {}) as Record<string, unknown>;
    checkSignal(operation, o.signal);
    checkTimeout(operation, o.timeoutMs);
    if (extra.includes('zlp')) checkType(operation, 'zlp', o.zlp, 'boolean');
    if (o.into !== undefined && !(o.into instanceof Uint8Array)) throw invalidArg(operation, `into must be a Uint8Array, got ${describe(o.into)}`);
    return undefined;
  } catch (err) {
    return err as UsbFnError;
  }
}

function checkTimeout(operation: string, value: unknown): void {
  if (value === undefined || (typeof value === 'number' && value >= 0 && !Number.isNaN(value))) return;
  throw invalidArg(operation, `timeoutMs must be a number of milliseconds ≥ 0 (Infinity: no limit), got ${describe(value)}`);
}

/** `speed` (if given) must be a bus speed: 'low', 'full', 'high' or 'super'. Throws INVALID_ARG. */
export function checkSpeed(operation: string, speed: unknown): void {
  checkOneOf(operation, 'speed', speed, BUS_SPEEDS);
}
