/** examples/echo-device.ts, the device definition shared with FunctionFS, runs on the emulator. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

test('the echo example answers GET_VERSION and echoes on the emulator, then exits', () => {
  const script = fileURLToPath(new URL('../../examples/echo-device.ts', import.meta.url));
  const out = execFileSync(process.execPath, ['--import', 'tsx', script, '--emulator'], { encoding: 'utf8', timeout: 60_000 });
  assert.match(out, /GET_VERSION -> usbfn demo 1\.0/);
  assert.match(out, /echo OK/);
});

test.run();
