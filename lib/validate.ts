/**
 * Argument checks shared by every public entry point that takes options (UsbFnDevice.open,
 * openPipe / openReader / openWriter, BulkPipe, ControlChannel.handle, the emulator's host).
 * Each throws a UsbFnError USBFN_ERR_INVALID_ARG whose message names the entry point, the
 * offending key and what to pass instead, so a typo (`zlpp`) or a wrong type is caught where it
 * was made rather than ignored or turned into a TypeError deep inside.
 */
import { ErrorCodes, UsbFnError } from './errors.js';

/** An INVALID_ARG error for `operation`, its message prefixed with the operation's name. */
export function invalidArg(operation: string, message: string): UsbFnError {
  return new UsbFnError(ErrorCodes.INVALID_ARG, `${operation}: ${message}`, { operation });
}

/** How a value reads in a message: strings quoted, objects by constructor name. */
export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null || typeof value !== 'object') return typeof value === 'function' ? 'a function' : String(value);
  const name = (value as object).constructor?.name;
  return name && name !== 'Object' ? `a ${name}` : 'an object';
}

/**
 * `options` must be undefined or a plain options object whose keys are all in `allowed`.
 * An unknown key is named together with the closest allowed one ("did you mean zlp?").
 */
export function checkOptions(operation: string, options: unknown, allowed: readonly string[]): void {
  if (options === undefined) return;
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw invalidArg(operation, `options must be an object, got ${describe(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (allowed.includes(key)) continue;
    const near = closest(key, allowed);
    throw invalidArg(operation, `unknown option ${JSON.stringify(key)}${near ? ` (did you mean ${near}?)` : ''}; known options: ${allowed.join(', ')}`);
  }
}

/** `value` (if given) must be one of `allowed`. */
export function checkOneOf(operation: string, name: string, value: unknown, allowed: readonly unknown[]): void {
  if (value === undefined || allowed.includes(value)) return;
  throw invalidArg(operation, `${name} must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}, got ${describe(value)}`);
}

/** `value` (if given) must be of the JavaScript type `type`. */
export function checkType(operation: string, name: string, value: unknown, type: 'string' | 'boolean' | 'number' | 'function'): void {
  if (value === undefined || typeof value === type) return;
  throw invalidArg(operation, `${name} must be a ${type}, got ${describe(value)}`);
}

/** `value` (if given) must be an integer in min..max. */
export function checkInteger(operation: string, name: string, value: unknown, min: number, max: number): void {
  if (value === undefined || (Number.isInteger(value) && (value as number) >= min && (value as number) <= max)) return;
  throw invalidArg(operation, `${name} must be an integer ${min}..${max}, got ${describe(value)}`);
}

/** `value` (if given) must be an AbortSignal (from an AbortController). */
export function checkSignal(operation: string, value: unknown, name = 'signal'): void {
  if (value === undefined || value instanceof AbortSignal) return;
  throw invalidArg(operation, `${name} must be an AbortSignal (new AbortController().signal), got ${describe(value)}`);
}

/** A GUID in registry form, braces optional: {xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}. */
const GUID = /^\{?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\}?$/i;

/** `value` (if given) must be a GUID string as the registry's InterfaceGUID writes it. */
export function checkGuid(operation: string, name: string, value: unknown): void {
  if (value === undefined) return;
  if (typeof value !== 'string' || !GUID.test(value)) {
    throw invalidArg(operation, `${name} must be a GUID string like '{6b0b0b1e-9d5c-4a5e-8f2c-1234567890ab}' (the registry's InterfaceGUID), got ${describe(value)}`);
  }
}

/** The allowed key nearest to `key` (edit distance ≤ 2), for "did you mean". */
function closest(key: string, allowed: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of allowed) {
    const d = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    row = next;
  }
  return row[b.length];
}
