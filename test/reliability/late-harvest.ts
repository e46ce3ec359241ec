/**
 * The koffi-standin tests of the write-order defects: the stand-in of kernel32 can hold its
 * completion packets back (setCompletionDelay), which is how a loaded Windows machine harvests
 * completions late. Without a C compiler the stand-in cannot be built: the test is registered as
 * skipped with that reason, never silently left out.
 */
import { test } from 'uvu';
import { Standin } from '../win32-standin/host.js';
import { standinBackend } from '../win32-standin/backend.js';
import { withStack, type StreamStack } from '../stream/helpers.js';

/** Registers "koffi-standin: <name>": `body` gets a fresh stream stack and the loaded stand-in. */
export function standinTest(name: string, body: (s: StreamStack, standin: Standin) => Promise<void>): void {
  const title = `koffi-standin: ${name}`;
  if (standinBackend.skip) return void test.skip(`${title} (${standinBackend.skip})`);
  test(title, () => withStack(standinBackend, (s) => body(s, Standin.load() as Standin)));
}
