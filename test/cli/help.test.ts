/** `usbfn --help`, `usbfn <command> --help`, and usage errors (exit 2 with a pointer to --help). */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { COMMANDS } from '../../lib/cli/run.js';
import { jsonOf, runInProcess, spawnCli } from './helpers.js';

const test = suite('usbfn: help and usage errors');

test('the spawned command prints its help (exit 0) and, with no command, the help with exit 2', async () => {
  const help = await spawnCli(['--help']);
  const [bare, version] = [await runInProcess([]), await runInProcess(['--version'])];
  assert.is(help.code, 0);
  for (const c of COMMANDS) assert.match(help.stdout, new RegExp(`^  ${c.name}\\s+\\S`, 'm'), `${c.name} listed`);
  assert.is(bare.code, 2);
  assert.match(bare.stdout, /Usage: usbfn <command>/);
  assert.is(version.stdout, '9.9.9\n');
});

test('every command has its own --help, starting with its usage line', async () => {
  for (const c of COMMANDS) {
    const r = await runInProcess([c.name, '--help']);
    assert.is(r.code, 0, c.name);
    assert.ok(r.stdout.startsWith(`usbfn ${c.name}`), `${c.name} --help starts with its usage`);
    assert.match(r.stdout, /Exit codes:/, `${c.name} --help lists the exit codes`);
  }
});

test('an unknown command or option is a usage error (exit 2) that says what to run next', async () => {
  const unknown = await runInProcess(['frobnicate']);
  assert.is(unknown.code, 2);
  assert.match(unknown.stderr, /unknown command "frobnicate"/);
  assert.match(unknown.stderr, /next: run `usbfn --help`/);
  const option = await runInProcess(['info', '--bogus']);
  assert.is(option.code, 2);
  assert.match(option.stderr, /next: run `usbfn info --help`/);
  const asJson = jsonOf(await runInProcess(['info', '--bogus', '--json'])) as { error: { code: string; exitCode: number } };
  assert.equal([asJson.error.code, asJson.error.exitCode], ['USBFN_CLI_USAGE', 2]);
});

test.run();
