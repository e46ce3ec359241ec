// Runs the README-promise programs of test/package/promises/ inside the consumer project (so they
// import the installed tarball) and turns each `PROMISE {json}` line they print into one result.
// A program that crashes, or prints no promise at all, is a failure of its own.
import { cpSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { run } from './project.mjs';

/** Each promise file's programs, in name order (harness.mjs is the shared helper, not a program). */
function promiseFiles(dir) {
  return readdirSync(dir).filter((f) => f.endsWith('.mjs') && f !== 'harness.mjs').sort();
}

/**
 * Copies test/package/promises into `project` and runs each file there with plain node;
 * `report(name, outcome, detail)` receives one result per promise.
 */
export async function runPromiseFiles(root, project, report) {
  const source = path.join(root, 'test/package/promises');
  const target = path.join(project, 'promises');
  cpSync(source, target, { recursive: true });
  for (const file of promiseFiles(source)) {
    const r = await run(process.execPath, [path.join(target, file)], { cwd: project, timeoutMs: 600_000 });
    const lines = r.out.split('\n').filter((l) => l.startsWith('PROMISE '));
    for (const line of lines) {
      const { name, ok, detail } = JSON.parse(line.slice('PROMISE '.length));
      report(`README promise (${file}): ${name}`, ok ? 'passed' : 'failed', detail);
    }
    if (r.code !== 0 || lines.length === 0) {
      const rest = r.out.split('\n').filter((l) => !l.startsWith('PROMISE ')).join('\n');
      report(`README promises of ${file} run to the end`, 'failed', `exit ${r.code}:\n${rest.slice(-3000)}`);
    }
  }
}
