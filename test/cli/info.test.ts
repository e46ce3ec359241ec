/** `usbfn info` prints the interface (name, GUID, state, speed, pipes per speed); refuses clearly where there is no backend. */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { jsonOf, runInProcess, spawnCli } from './helpers.js';

const test = suite('usbfn info');

test('the spawned command describes the emulated serial interface as JSON', async () => {
  const r = await spawnCli(['info', '--emulate', '--function', 'serial', '--speed', 'super', '--json']);
  assert.is(r.code, 0, r.stderr);
  const info = jsonOf(r) as { interfaceName: string; state: string; speed: string; emulated: boolean; pipes: Record<string, Array<{ address: string; type: string; maxPacketSize: number }>> };
  assert.equal([info.interfaceName, info.state, info.speed, info.emulated], ['usbfn_serial', 'configured', 'super', true]);
  assert.equal(info.pipes.super.map((p) => [p.address, p.type, p.maxPacketSize]), [['0x83', 'interrupt', 16], ['0x81', 'bulk', 1024], ['0x02', 'bulk', 1024]]);
});

test('text output names the interface, its GUID and every pipe', async () => {
  const r = await runInProcess(['info', '--emulate']);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /^interface usbfn_bulk \(number 0\) \[emulated\]/);
  assert.match(r.stdout, /GUID {3}\{8A5D1D72-5E6B-4B1C-9E1F-3C0D2B7A6E15\}/);
  assert.match(r.stdout, /state {2}configured, high speed/);
  assert.match(r.stdout, /pipe 1 {2}0x81 {2}in {3}bulk {7}max packet 512/);
});

test('without --emulate on Linux: exit 3, USBFN_ERR_PLATFORM, and the next step', async () => {
  const r = await runInProcess(['info']);
  assert.is(r.code, 3);
  assert.match(r.stderr, /say which FunctionFS instance to use/);
  assert.match(r.stderr, /next: .*--emulate/);
  assert.is((jsonOf(await runInProcess(['info', '--json'])).error as { code: string }).code, 'USBFN_ERR_PLATFORM');
});

test('bad values are usage errors (exit 2)', async () => {
  for (const args of [['--speed', 'warp'], ['--function', 'modem'], ['--function', 'bulk', '--layout', 'functionfs']]) {
    const r = await runInProcess(['info', '--emulate', ...args]);
    assert.is(r.code, 2, args.join(' '));
  }
});

test.run();
