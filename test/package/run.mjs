#!/usr/bin/env node
// The package as a stranger gets it: `npm pack`, install the tarball into a fresh temporary
// project, then check from the outside, with plain node (no tsx) and the project's own tsc:
// what the tarball holds, that the types compile under nodenext and bundler with no @types but
// @types/node, that a consumer program runs, that importing usbfn maps no native library, that
// require() works where Node allows it, and that every ts/js block of README.md type-checks and
// runs against the emulator. Ends with "N passed, N failed[, N skipped]".
//
//   node test/package/run.mjs          # USBFN_PACKAGE_KEEP=1 keeps the temporary project
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createProject, pack, run } from './project.mjs';
import { readmePrograms } from './readme-programs.mjs';
import { runPromiseFiles } from './promise-files.mjs';
import { checkReadmeOutputs } from './readme-outputs.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const work = mkdtempSync(path.join(tmpdir(), 'usbfn-package-'));
const project = path.join(work, 'consumer');
const results = { passed: 0, failed: 0, skipped: 0 };

function report(name, outcome, detail = '') {
  results[outcome]++;
  const mark = { passed: '✔', failed: '✘', skipped: '-' }[outcome];
  console.log(`${mark} ${name}${detail ? `\n    ${detail.trim().split('\n').join('\n    ')}` : ''}`);
}

/** Runs one named check: it throws to fail, returns 'skipped: why' to skip. */
async function check(name, fn) {
  try {
    const r = await fn();
    if (typeof r === 'string' && r.startsWith('skipped')) report(name, 'skipped', r);
    else report(name, 'passed');
  } catch (err) {
    report(name, 'failed', err instanceof Error ? err.message : String(err));
  }
}

const tsc = (config) => run(process.execPath, [path.join(project, 'node_modules/typescript/bin/tsc'), '-p', config], { cwd: project });
const node = (file, timeoutMs = 60_000) => run(process.execPath, [file], { cwd: project, timeoutMs });
/** tsc's error lines about one file, as "file(line,col): error …". */
const errorsOf = (out, file) => out.split('\n').filter((l) => l.startsWith(file)).join('\n');

/** True when the installed package `specifier` names carries its own declarations (koffi does). */
function shipsTypes(specifier) {
  const name = specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/');
  const dir = path.join(project, 'node_modules', name);
  if (!existsSync(path.join(dir, 'package.json'))) return false;
  const meta = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
  return Boolean(meta.types || meta.typings || existsSync(path.join(dir, 'index.d.ts')));
}

function listFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? listFiles(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

/** The extractor on a made-up page: what it calls a program decides what the README test runs. */
function checkExtractor() {
  const page = [
    '```ts', 'const a = 1;', '```', 'text', '```ts', '// …continuing the program above', 'console.log(a);', '```',
    '```sh', 'npm install usbfn', '```', '<!-- doctest: fails USBFN_ERR_PLATFORM off Windows -->', '', '```js', 'open();', '```',
    '```js', 'done();', '```',
  ].join('\n');
  const got = readmePrograms(page).map((p) => [p.line, p.lang, p.code, p.expectFailure]);
  const want = [
    [1, 'ts', 'const a = 1;', null],
    [5, 'ts', 'const a = 1;\n// …continuing the program above\nconsole.log(a);', null],
    [14, 'js', 'open();', 'USBFN_ERR_PLATFORM'],
    [17, 'js', 'done();', null],
  ];
  if (JSON.stringify(got) !== JSON.stringify(want)) throw new Error(`got ${JSON.stringify(got)}`);
}

async function main() {
  await check('the README extractor: whole programs, continuations, directives, no sh blocks', checkExtractor);
  let started = Date.now();
  const phase = (what) => {
    console.log(`# ${what} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    started = Date.now();
  };
  const tarball = await pack(root, work);
  phase('packed');
  await createProject(root, project, tarball);
  phase('installed into a fresh project');
  const programs = readmePrograms(readFileSync(path.join(root, 'README.md'), 'utf8'));
  for (const p of programs) writeFileSync(path.join(project, 'readme', `line-${p.line}.${p.lang === 'ts' ? 'ts' : 'mjs'}`), p.code);

  await check('the tarball holds LICENSE, README, dist and the three entries, and no tests', async () => {
    const { out } = await run('tar', ['-tzf', tarball]);
    const files = out.split('\n');
    for (const f of ['LICENSE', 'README.md', 'dist/lib/index.js', 'dist/lib/driver/emulator/index.js', 'dist/lib/windows/index.d.ts']) {
      if (!files.includes(`package/${f}`)) throw new Error(`missing ${f}`);
    }
    const tests = files.filter((f) => /^package\/(dist\/)?test\//.test(f));
    if (tests.length) throw new Error(`ships tests: ${tests.slice(0, 5).join(', ')}`);
  });

  await check('the shipped .d.ts import only node: modules and the package itself', async () => {
    const dts = listFiles(path.join(project, 'node_modules/usbfn/dist')).filter((f) => f.endsWith('.d.ts'));
    const code = (f) => readFileSync(f, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
    const foreign = dts.flatMap((f) => [...code(f).matchAll(/(?:from |import\()'([^']+)'/g)]
      .map((m) => m[1]).filter((s) => !s.startsWith('.') && !s.startsWith('node:') && !shipsTypes(s)).map((s) => `${path.basename(f)}: ${s}`));
    if (foreign.length) throw new Error(`imported without types in the install:\n${foreign.join('\n')}`);
  });

  // Both at once: each takes ~10 CPU-seconds. nodenext also emits the programs into out/.
  const [nodenext, bundler] = await Promise.all([tsc('tsconfig.nodenext.json'), tsc('tsconfig.bundler.json')]);
  phase('type-checked (nodenext, bundler)');
  await check('a consumer type-checks under module/moduleResolution nodenext', async () => {
    const errors = errorsOf(nodenext.out, 'consumer.ts') || errorsOf(nodenext.out, 'node_modules');
    if (errors) throw new Error(errors);
  });
  await check('a consumer type-checks under moduleResolution bundler', async () => {
    const errors = errorsOf(bundler.out, 'consumer.ts') || errorsOf(bundler.out, 'node_modules');
    if (errors) throw new Error(errors);
  });
  await check('the compiled consumer runs with plain node', async () => {
    const r = await node('out/consumer.js');
    if (r.code !== 0 || !r.out.includes('consumer ok')) throw new Error(`exit ${r.code}:\n${r.out}`);
  });
  await check('importing usbfn and usbfn/emulator maps no native library', async () => {
    const r = await node('native-check.mjs');
    if (r.code !== 0) throw new Error(r.out);
    const found = JSON.parse(r.out.trim().split('\n').pop());
    if (found.inReport || found.inMaps) throw new Error(`koffi's native module is loaded: ${r.out}`);
  });
  await check('require() of the ESM package works on Node >= 20.19 (ERR_REQUIRE_ESM before)', async () => {
    const [major, minor] = process.versions.node.split('.').map(Number);
    const expected = major > 22 || (major === 22 && minor >= 12) || (major === 20 && minor >= 19) ? 'required' : 'ERR_REQUIRE_ESM';
    const r = await node('require-check.cjs');
    if (!r.out.includes(expected)) throw new Error(`expected ${expected}, got: ${r.out}`);
  });

  for (const p of programs) await checkProgram(p, nodenext.out, bundler.out);
  if (programs.length === 0) report('README.md has code blocks to test', 'failed');
  checkReadmeOutputs(readFileSync(path.join(root, 'README.md'), 'utf8'), programs, report);
  // The README's sentences (defaults, codes, events, the CLI), each checked from the outside.
  await runPromiseFiles(root, project, report);
}

async function checkProgram(p, nodenextOut, bundlerOut) {
  const file = `readme/line-${p.line}.${p.lang === 'ts' ? 'ts' : 'mjs'}`;
  const what = p.expectFailure ? `fails with ${p.expectFailure} ${p.condition}` : 'runs';
  await check(`README.md block at line ${p.line} (${p.lang}) type-checks and ${what}`, async () => {
    const errors = p.lang === 'ts' ? errorsOf(nodenextOut, file) || errorsOf(bundlerOut, file) : '';
    if (errors) throw new Error(errors);
    if (p.expectFailure && process.platform === 'win32') return 'skipped: needs the function controller it would open';
    const r = await node(p.lang === 'ts' ? `out/${file.replace(/\.ts$/, '.js')}` : file, 30_000);
    if (!p.expectFailure) p.output = r.out;
    if (p.expectFailure) {
      if (r.code === 0 || !r.out.includes(p.expectFailure)) throw new Error(`expected a failure with ${p.expectFailure}; exit ${r.code}:\n${r.out}`);
    } else if (r.code !== 0) {
      throw new Error(`exit ${r.code}:\n${r.out}`);
    }
  });
}

try {
  await main();
} catch (err) {
  report('pack and install the package', 'failed', err instanceof Error ? err.message : String(err));
} finally {
  if (process.env.USBFN_PACKAGE_KEEP) console.log(`kept ${work}`);
  else if (existsSync(work)) rmSync(work, { recursive: true, force: true });
}
const skipped = results.skipped ? `, ${results.skipped} skipped` : '';
console.log(`\n${results.passed} passed, ${results.failed} failed${skipped}`);
process.exitCode = results.failed ? 1 : 0;
