/** The function description, the UDC reader and the platform opener load no koffi: FunctionFS maps it only when opened. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

test('importing the function description and the opener maps no native code', () => {
  const script = fileURLToPath(new URL('./fixtures/load-pure-parts.ts', import.meta.url));
  const out = execFileSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(JSON.parse(out), { koffi: false });
});

test('the check sees koffi once the FunctionFS libc bindings are loaded', () => {
  if (process.platform !== 'linux') return;
  const script = fileURLToPath(new URL('./fixtures/load-pure-parts.ts', import.meta.url));
  const out = execFileSync(process.execPath, ['--import', 'tsx', script, '--load-ffi'], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(JSON.parse(out), { koffi: true });
});

test.run();
