/**
 * `usbfn windows-config` writes the USBFN registry layout (genericusbfn.md §6) for the serial
 * function and the vendor bulk interface, from the same description the emulator presents.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { jsonOf, runInProcess, spawnCli } from './helpers.js';

const test = suite('usbfn windows-config');
const KEY = 'HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\USBFN';

test('the serial function: Interfaces key with GUID and descriptor set, configuration, CurrentConfiguration', async () => {
  const r = await runInProcess(['windows-config', '--function', 'serial', '--vid', '0x1209', '--pid', '0001', '--manufacturer', 'Acme "Labs"', '--product', 'Widget']);
  assert.is(r.code, 0, r.stderr);
  const lines = r.stdout.split('\r\n');
  assert.is(lines[0], 'Windows Registry Editor Version 5.00');
  const at = (key: string) => lines.indexOf(`[${key}]`);
  assert.ok(at(`${KEY}\\Interfaces\\usbfn_serial`) > 0);
  assert.ok(lines.includes('"InterfaceGUID"="{5C9A3E1B-7D2F-4A86-B0C4-1E8F6D2A9B37}"'));
  // interface 02/02/01 with 3 endpoints, CDC header + ACM descriptors, then interrupt IN 0x83, bulk IN 0x81, bulk OUT 0x02
  assert.ok(r.stdout.includes('"InterfaceDescriptor"=hex:09,04,00,00,03,02,02,01,00,05,24,00,10,01,04,24,02,06,07,05,83,03,10,00,\\\r\n  04,07,05,81,02,00,02,00,07,05,02,02,00,02,00\r\n'));
  assert.ok(at(`${KEY}\\Configurations\\usbfn`) > 0);
  assert.ok(r.stdout.includes('"InterfaceList"=hex(7):75,00,73,00,62,00,66,00,6e,00,5f,00,73,00,65,00,72,00,69,00,61,00,6c,00,\\\r\n  00,00,00,00'));
  assert.ok(at(KEY) > at(`${KEY}\\Configurations\\usbfn`));
  for (const v of ['"CurrentConfiguration"="usbfn"', '"idVendor"=dword:00001209', '"idProduct"=dword:00000001', '"ManufacturerString"="Acme \\"Labs\\""', '"ProductString"="Widget"']) {
    assert.ok(lines.includes(v), v);
  }
  assert.ok(!r.stdout.includes('IncludeDefaultCfg'));
});

test('serial and bulk together: both Interfaces keys, one InterfaceList in order, as JSON', async () => {
  const r = await runInProcess(['windows-config', '--function', 'serial', '--function', 'bulk', '--configuration', 'combo', '--include-default', '--json']);
  assert.is(r.code, 0, r.stderr);
  const keys = (jsonOf(r).keys as Array<{ path: string; values: Record<string, unknown> }>);
  assert.equal(keys.map((k) => k.path.slice(KEY.length)), ['\\Interfaces\\usbfn_serial', '\\Interfaces\\usbfn_bulk', '\\Configurations\\combo', '']);
  assert.equal(keys[2].values.InterfaceList, ['usbfn_serial', 'usbfn_bulk']);
  assert.is(keys[1].values.InterfaceDescriptor, '0904000002ff0000000705810200020007050102000200');
  assert.equal(keys[3].values, { CurrentConfiguration: 'combo', IncludeDefaultCfg: 1 });
});

test('the spawned command writes --out as UTF-16LE with a BOM, as regedit does', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'usbfn-reg-'));
  try {
    const file = path.join(dir, 'bulk.reg');
    const r = await spawnCli(['windows-config', '--function', 'bulk', '--name', 'my_bulk', '--guid', '{0A1B2C3D-4E5F-6071-8293-A4B5C6D7E8F9}', '--out', file]);
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stdout, /wrote .*bulk\.reg \(3 keys\); import it on the device with: reg import/);
    const bytes = await readFile(file);
    assert.equal([bytes[0], bytes[1]], [0xff, 0xfe]);
    const text = bytes.subarray(2).toString('utf16le');
    assert.ok(text.startsWith('Windows Registry Editor Version 5.00\r\n'));
    assert.ok(text.includes(`[${KEY}\\Interfaces\\my_bulk]\r\n"InterfaceGUID"="{0A1B2C3D-4E5F-6071-8293-A4B5C6D7E8F9}"`));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('bad input is a usage error (exit 2) naming the option', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['--vid', 'acme'], /--vid takes a 16-bit hex id/],
    [['--guid', 'not-a-guid'], /interfaceGuid must look like/],
    [['--name', 'bad\\name'], /name must be 1\.\.40 letters/],
    [['--function', 'serial', '--function', 'bulk', '--name', 'x'], /apply to one --function/],
    [['--configuration', 'a b'], /--configuration must be a registry key name/],
  ];
  for (const [args, message] of cases) {
    const r = await runInProcess(['windows-config', ...args]);
    assert.is(r.code, 2, args.join(' '));
    assert.match(r.stderr, message);
  }
});

test.run();
