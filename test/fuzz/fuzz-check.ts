/**
 * Runs one decoder target on many inputs and checks the three promises every decoder makes:
 * it throws nothing but a CodecError, it never reads outside the bytes it is given (the same input
 * decoded inside different surrounding bytes gives the same result), and it returns synchronously
 * (no hang: a decoder has no loop bounded by data it did not check).
 */
import { isDeepStrictEqual } from 'node:util';
import { CodecError } from '../../native-defs/codec.js';
import { Rng, hex, nextInput } from './prng.js';
import type { DecoderTarget } from './decoder-targets.js';

export interface FuzzFinding {
  target: string;
  input: string;
  problem: string;
}

export interface FuzzReport {
  target: string;
  iterations: number;
  decoded: number;
  rejected: number;
  findings: FuzzFinding[];
}

/** `input` placed at an odd offset inside an ArrayBuffer whose other bytes are all `fill`. */
function embedded(input: Uint8Array, fill: number): Uint8Array {
  const guard = 67;
  const backing = new Uint8Array(input.length + 2 * guard).fill(fill);
  backing.set(input, guard);
  return backing.subarray(guard, guard + input.length);
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

function attempt(target: DecoderTarget, bytes: Uint8Array): Outcome {
  try {
    return { ok: true, value: target.decode(bytes) };
  } catch (error) {
    return { ok: false, error };
  }
}

/** What is wrong with decoding `input`, or null. */
export function checkOne(target: DecoderTarget, input: Uint8Array): string | null {
  const low = attempt(target, embedded(input, 0x00));
  const high = attempt(target, embedded(input, 0xff));
  if (!low.ok && !(low.error instanceof CodecError)) return `threw ${(low.error as Error)?.name}: ${(low.error as Error)?.message}`;
  if (low.ok !== high.ok) return 'the bytes around the input changed whether it decodes (a read outside the buffer)';
  if (low.ok && high.ok && !isDeepStrictEqual(low.value, high.value)) return 'the bytes around the input changed the result (a read outside the buffer)';
  return null;
}

/** Fuzzes `target` for `iterations` inputs from `seed`; stops collecting after 5 findings. */
export function fuzzTarget(target: DecoderTarget, seed: number, iterations: number): FuzzReport {
  const rng = new Rng(seed);
  const report: FuzzReport = { target: target.name, iterations: 0, decoded: 0, rejected: 0, findings: [] };
  for (const s of target.seeds) {
    const problem = checkOne(target, s);
    if (problem || !attempt(target, s).ok) report.findings.push({ target: target.name, input: hex(s), problem: problem ?? 'a valid seed does not decode' });
  }
  for (let i = 0; i < iterations && report.findings.length < 5; i++) {
    const input = nextInput(rng, target.seeds);
    const problem = checkOne(target, input);
    report.iterations++;
    if (problem) report.findings.push({ target: target.name, input: hex(input), problem });
    else if (attempt(target, input).ok) report.decoded++;
    else report.rejected++;
  }
  return report;
}
