// The harness of the README-promise checks. Each file of this folder is a program copied into the
// package test's consumer project and run there with plain node, so `usbfn` resolves to the
// installed tarball exactly as a user's import would. `promise(name, fn)` runs one check (in
// order; fn throws to fail) and prints one `PROMISE {json}` line that run.mjs turns into a result.
import { inspect } from 'node:util';

const queue = [];

/** Registers one README promise; `fn` may be async and throws (or rejects) when the promise is false. */
export function promise(name, fn) {
  queue.push({ name, fn });
}

/** Runs every registered promise in order, each under a hang guard; prints one line per promise. */
export async function runPromises(hangGuardMs = 30_000) {
  for (const { name, fn } of queue) {
    let timer;
    const guard = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`still running after ${hangGuardMs} ms (hang guard)`)), hangGuardMs);
    });
    try {
      await Promise.race([fn(), guard]);
      console.log(`PROMISE ${JSON.stringify({ name, ok: true })}`);
    } catch (err) {
      const detail = err instanceof Error ? `${err.message}${err.code ? ` (code ${err.code})` : ''}` : inspect(err);
      console.log(`PROMISE ${JSON.stringify({ name, ok: false, detail })}`);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Fails unless `actual` deep-equals `expected` (compared as JSON). */
export function same(actual, expected, what = 'value') {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${what}: expected ${e}, got ${a}`);
}

/** Fails unless `fn` throws (or rejects with) an error whose `code` is `code`; returns the error. */
export async function failsWith(code, fn, what = 'the call') {
  let caught;
  try {
    await fn();
  } catch (err) {
    caught = err;
  }
  if (!caught) throw new Error(`${what} did not fail (expected ${code})`);
  if (caught.code !== code) throw new Error(`${what} failed with ${caught.code ?? 'no code'} (${caught.message}), expected ${code}`);
  return caught;
}

/** Fails unless `condition` is truthy. */
export function ok(condition, what) {
  if (!condition) throw new Error(what);
}

/** Resolves after the emulator's completions of this turn have run (a few event-loop turns). */
export async function settle(turns = 5) {
  for (let i = 0; i < turns; i++) await new Promise((r) => setImmediate(r));
}
