/** Parses byte counts on the command line: 1048576, 64k, 16M (binary units). */
import { usageError } from './exit-codes.js';

export function parseSize(text: string | undefined, fallback: number, option: string, command: string): number {
  if (text === undefined) return fallback;
  const m = /^(\d+)([kKmMgG]?)$/.exec(text.trim());
  if (!m) throw usageError(`--${option} takes a byte count such as 65536, 64k or 16M, got ${text}`, command);
  const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2].toLowerCase() as '' | 'k' | 'm' | 'g'];
  const n = Number(m[1]) * unit;
  if (n < 1 || n > 1024 ** 3) throw usageError(`--${option} must be 1 byte .. 1G, got ${text}`, command);
  return n;
}
