/** Waiting and rejection helpers every suite shares. */
import * as assert from 'uvu/assert';

/**
 * Waits until `condition()` holds: every event-loop turn at first, then every millisecond,
 * failing after `ms` of wall time. A count of turns is no bound on the koffi path, where a
 * completion crosses a thread (2000 turns can pass in 6 ms on this machine).
 */
export async function waitUntil(condition: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  for (let i = 0; !condition(); i++) {
    if (Date.now() > deadline) assert.unreachable(`timed out waiting for ${what}`);
    await new Promise<void>((resolve) => (i < 2000 ? setImmediate(resolve) : setTimeout(resolve, 1)));
  }
}

/** Asserts `promise` rejects with an error whose `code` is `code` (a UsbFnError's or a Node stream's); returns it. */
export async function rejectsWithCode(promise: Promise<unknown>, code: string, message?: string): Promise<Error & { code?: string }> {
  try {
    await promise;
  } catch (err) {
    assert.is((err as { code?: string }).code, code, `${message ?? ''} expected ${code}, got ${String(err)}`);
    return err as Error & { code?: string };
  }
  assert.unreachable(`${message ?? ''} expected a rejection with ${code}`);
  throw new Error('unreachable');
}
