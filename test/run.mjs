#!/usr/bin/env node
// Runs every *.test.ts under test/ with uvu (in one process, through tsx), echoes uvu's output,
// and ends with the line CI reads: "N passed, N failed[, N skipped]". uvu prints Total/Passed/
// Skipped only (Total excludes skips); failures are computed as Total − Passed. A crash before uvu's summary counts as a failure, and a run
// that leaves handles open is killed after a timeout (that, too, is a failure worth seeing).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const dir = args[0] ?? 'test';
const pattern = args[1] ?? '\\.test\\.ts$';
const timeoutMs = Number(process.env.USBFN_TEST_TIMEOUT_MS ?? 20 * 60 * 1000);

const uvu = path.join(root, 'node_modules', 'uvu', 'bin.js');
const child = spawn(process.execPath, ['--import', 'tsx', uvu, dir, pattern], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });

let output = '';
let lingered = false;
let lingerTimer = null;
const lingerMs = Number(process.env.USBFN_TEST_LINGER_MS ?? 30_000);
child.stdout.on('data', (d) => {
  output += d;
  process.stdout.write(d);
  // uvu has printed its summary: every test is done. A process still alive well after that has
  // a handle some test left open (an open koffi device keeps the loop alive): fail, don't wait.
  if (!lingerTimer && /Duration:/.test(output)) {
    lingerTimer = setTimeout(() => {
      lingered = true;
      process.stderr.write(`\ntests finished but the process did not exit within ${lingerMs} ms: a handle was left open\n`);
      child.kill('SIGKILL');
    }, lingerMs);
  }
});
child.stderr.on('data', (d) => { output += d; process.stderr.write(d); });

const timer = setTimeout(() => {
  process.stderr.write(`\ntest run still going after ${timeoutMs} ms (an open handle?): killing it\n`);
  child.kill('SIGKILL');
}, timeoutMs);

child.on('close', (code, signal) => {
  clearTimeout(timer);
  clearTimeout(lingerTimer);
  const plain = output.replace(/\x1b\[[0-9;]*m/g, '');
  const count = (label) => {
    const m = plain.match(new RegExp(`^\\s*${label}:\\s+(\\d+)`, 'm'));
    return m ? Number(m[1]) : null;
  };
  const total = count('Total');
  const passed = count('Passed') ?? 0;
  const skipped = count('Skipped') ?? 0;
  let failed = total === null ? 1 : total - passed;
  if ((code !== 0 || signal || lingered) && failed === 0) failed = 1;
  const tail = skipped ? `, ${skipped} skipped` : '';
  process.stdout.write(`\n${passed} passed, ${failed} failed${tail}\n`);
  process.exit(failed > 0 ? 1 : 0);
});
