/**
 * A process with a device open and IRPs pending in the broker ends promptly on process.exit()
 * and on an uncaught exception (Node joins the libuv threadpool at exit: a completion-port wait
 * blocked in a koffi .async call would hold it forever). The bound only catches a hang.
 */
import * as assert from 'uvu/assert';
import { runChild, wineSuite } from './helpers.js';

const HANG_BOUND_MS = 45_000;

wineSuite('process exit with a device open', (it) => {
  it('process.exit(0) with reads pending ends the process with status 0', async () => {
    const child = runChild('hold-open', ['exit'], HANG_BOUND_MS);
    await child.line('ready');
    const r = await child.exited;
    assert.not.ok(r.hung, `process.exit() hung: ${r.output}`);
    assert.is(r.code, 0, r.output);
  });

  it('an uncaught exception with reads pending ends the process with status 1', async () => {
    const child = runChild('hold-open', ['throw'], HANG_BOUND_MS);
    await child.line('ready');
    const r = await child.exited;
    assert.not.ok(r.hung, `the uncaught exception did not end the process: ${r.output}`);
    assert.is(r.code, 1, r.output);
    assert.match(r.output, 'uncaught on purpose');
  });
});
