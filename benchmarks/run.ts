/**
 * `npm run bench`: every benchmark, one after the other, each printing its own table (ratios
 * measured side by side in the same run) and writing JSON under benchmarks/results/.
 * Arguments after `--` go to every benchmark (e.g. `npm run bench -- --runs 3`).
 * Run one alone with `npx tsx benchmarks/<name>.ts`; each file's header says what it asks.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const BENCHMARKS = ['stream-throughput.ts', 'stream-read-copy.ts', 'koffi-vs-direct.ts'];
const extra = process.argv.slice(2);

let failed = 0;
for (const file of BENCHMARKS) {
  console.log(`\n=== ${file} ${extra.join(' ')}`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(here, file), ...extra], { stdio: 'inherit' });
  if (r.status !== 0) {
    failed++;
    console.log(`${file} exited with ${r.status ?? r.signal}`);
  }
}
process.exit(failed ? 1 : 0);
