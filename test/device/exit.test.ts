/**
 * The process exits by itself after close(): a child opens a device, streams, leaves transfers
 * pending, closes, and never calls process.exit. The bound below only catches a hang; the
 * assertion is that the child ended on its own with status 0.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as assert from 'uvu/assert';
import { suitePerBackend } from './harness.js';
import { fixtureArgs } from '../fixture-command.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const HANG_BOUND_MS = 60_000;

function runFixture(name: string, args: string[]): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string; hung: boolean }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...fixtureArgs(name), ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let hung = false;
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      hung = true;
      child.kill('SIGKILL');
    }, HANG_BOUND_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, hung });
    });
  });
}

suitePerBackend('process exit', (test, backend) => {
  test('a process that opens, streams and closes a device exits by itself with status 0', async () => {
    const r = await runFixture('open-stream-close.ts', [backend.name, '4']);
    assert.not.ok(r.hung, `the child did not exit by itself; stdout: ${r.stdout} stderr: ${r.stderr}`);
    assert.is(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.is(lines[0], `ok ${4 * 1024 * 1024} true`);
    assert.is(lines[1], 'closed 0 USBFN_ERR_DISCONNECTED USBFN_ERR_DISCONNECTED');
  });
});
