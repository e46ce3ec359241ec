// The temporary consumer project of the package test: packs the repository (prepack builds it),
// installs the tarball into a fresh directory as a user would (from the npm cache where it can,
// install scripts not run: the package must not need them), and runs commands in it.
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** Runs a command; resolves { code, out } (stdout and stderr together), never rejects. */
export function run(command, args, { cwd, timeoutMs = 120_000, env } = {}) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => {
      out += `\n(killed: still running after ${timeoutMs} ms)`;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (err) => (out += String(err)));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), out });
    });
  });
}

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** `npm pack` of `root` into `dir`; returns the tarball's path. */
export async function pack(root, dir) {
  const r = await run(npm, ['pack', '--pack-destination', dir, '--loglevel=error'], { cwd: root, timeoutMs: 300_000 });
  const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'));
  if (r.code !== 0 || !tarball) throw new Error(`npm pack failed (${r.code}):\n${r.out}`);
  return path.join(dir, tarball);
}

function versionIn(root, name) {
  return JSON.parse(readFileSync(path.join(root, 'node_modules', name, 'package.json'), 'utf8')).version;
}

/**
 * A fresh ESM project in `dir` with the tarball installed, plus the tools a user would add
 * (typescript, @types/node, uvu for the README's test example, a serialport parser for its serial example, tsx
 * for its `npx tsx app.ts`) at the repository's versions so
 * that the npm cache serves them, and the consumer files of test/package/consumer.
 */
export async function createProject(root, dir, tarball) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'usbfn-consumer', private: true, type: 'module' }, null, 2));
  const tools = ['typescript', '@types/node', 'uvu', '@serialport/parser-readline', 'tsx'].map((name) => `${name}@${versionIn(root, name)}`);
  const args = ['install', '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts', '--loglevel=error', tarball, ...tools];
  const r = await run(npm, args, { cwd: dir, timeoutMs: 300_000 });
  if (r.code !== 0) throw new Error(`npm install of the tarball failed (${r.code}):\n${r.out}`);
  cpSync(path.join(root, 'test/package/consumer'), dir, { recursive: true });
  mkdirSync(path.join(dir, 'readme'), { recursive: true });
}
