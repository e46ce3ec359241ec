/**
 * Runs under Wine's node.exe, on the JavaScript tsc compiled (tsx cannot run under Wine 8.0):
 * what uvu's CLI does, with file URLs Windows paths need. Arguments: test folders relative to the
 * compiled tree's root (or single test files). uvu prints its Total/Passed/Skipped summary; test/wine/run.sh reads it.
 */
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function testFiles(dir: string): string[] {
  if (!statSync(dir).isDirectory()) return [dir]; // one file
  return readdirSync(dir).sort().flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return testFiles(full);
    return name.endsWith('.test.js') ? [full] : [];
  });
}

const globals = globalThis as unknown as { UVU_DEFER: number; UVU_INDEX: number; UVU_QUEUE: unknown[][] };
globals.UVU_DEFER = 1;
const uvu = await import('uvu');
let index = 0;
for (const dir of process.argv.slice(2)) {
  for (const file of testFiles(path.join(root, dir))) {
    globals.UVU_INDEX = index++;
    globals.UVU_QUEUE.push([path.relative(root, file)]);
    await import(pathToFileURL(file).href);
  }
}
await uvu.exec(false);
// As test/run.mjs: a process still alive well after the summary has a handle some test left open.
setTimeout(() => {
  console.log('tests finished but the process did not exit within 30 s: a handle was left open');
  process.kill(process.pid, 'SIGKILL'); // TerminateProcess: process.exit() could wait on a blocked koffi call
}, 30_000).unref();
