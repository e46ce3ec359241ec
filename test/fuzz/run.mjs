#!/usr/bin/env node
// The long fuzz run: `npm run fuzz [-- --iterations N --seed S]`. Runs the same suites npm test
// runs briefly, with N inputs per decoder (default 1,000,000), N/10 driver operations and N/100
// control transfers, and ends with "N passed, N failed". A finding prints its seed and input;
// `--seed S` (or USBFN_FUZZ_SEED) replays it.
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const { values } = parseArgs({ options: { iterations: { type: 'string', default: '1000000' }, seed: { type: 'string' } } });
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const seed = values.seed ?? String((Date.now() ^ (process.pid << 16)) >>> 0);
console.log(`fuzz: ${values.iterations} inputs per decoder, seed ${seed}`);
const env = { ...process.env, USBFN_FUZZ_ITERATIONS: values.iterations, USBFN_FUZZ_SEED: seed, USBFN_TEST_TIMEOUT_MS: String(6 * 3600_000) };
const run = spawnSync(process.execPath, [path.join(root, 'test/run.mjs'), 'test/fuzz'], { cwd: root, env, stdio: 'inherit' });
process.exit(run.status ?? 1);
