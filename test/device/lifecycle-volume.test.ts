/**
 * Lifecycle at volume: 1,000 open/close cycles and 1,000 enumerate/detach cycles on the emulator
 * (each moving one transfer each way) leave no handle, timer, pending IOCTL, pool buffer,
 * transfer or listener behind, and the process then exits by itself. Run in a child process so
 * that a leaked handle shows as a process that does not end (killed by the hang guard).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { fixtureArgs } from '../fixture-command.js';

/** A hang guard only (the run takes seconds alone; the machine is shared and may be loaded). */
const HANG_GUARD_MS = 240_000;

function runChild(cycles: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...fixtureArgs('lifecycle-volume.ts'), String(cycles)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const guard = setTimeout(() => child.kill('SIGKILL'), HANG_GUARD_MS);
    child.on('close', (code, signal) => {
      clearTimeout(guard);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

test('1,000 open/close and 1,000 enumerate/detach cycles leave nothing behind and the process exits by itself', async () => {
  const r = await runChild(1000);
  assert.is(r.signal, null, `the child did not exit by itself: ${r.stderr}`);
  assert.is(r.code, 0, r.stderr);
  const counts = JSON.parse(r.stdout.trim().split('\n').pop()!);
  assert.equal(
    { ...counts, heapMiB: 0 },
    {
      cycles: 1000,
      pending: 0,
      poolInUse: 0,
      readsPending: 0,
      writesPending: 0,
      resources: 0,
      resourceKinds: [],
      processListeners: 0,
      listenersGrown: { device: 0, link: 0, control: 0, emu: 0 },
      heapMiB: 0,
    },
  );
});

test.run();
