// README "Install", the entry points and "Debugging": what package.json declares and what a user
// gets from `npm install usbfn` (the dependencies, koffi's prebuilt package, the five entries),
// and that the library prints nothing unless DEBUG names its `usbfn:*` namespaces.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promise, runPromises, same, ok } from './harness.mjs';

const project = process.cwd();
const meta = JSON.parse(readFileSync(path.join(project, 'node_modules/usbfn/package.json'), 'utf8'));

promise('Node.js 20 or later, ESM only: engines >=20, "type": "module", no "require" condition in exports', () => {
  same([meta.engines?.node, meta.type], ['>=20', 'module'], '[engines.node, type]');
  const conditions = Object.values(meta.exports).flatMap((e) => (typeof e === 'string' ? [] : Object.keys(e)));
  ok(!conditions.includes('require'), 'an export has a "require" condition');
});

promise('dependencies: koffi, readable-stream, debug (nothing else)', () => {
  same(Object.keys(meta.dependencies ?? {}).sort(), ['debug', 'koffi', 'readable-stream'], 'dependencies');
});

promise("koffi's prebuilt binary comes as an ordinary package, @koromix/koffi-<os>-<arch>", () => {
  const os = { win32: 'win32', linux: 'linux', darwin: 'darwin', freebsd: 'freebsd', openbsd: 'openbsd' }[process.platform] ?? process.platform;
  const dir = path.join(project, 'node_modules/@koromix', `koffi-${os}-${process.arch}`);
  ok(existsSync(path.join(dir, 'package.json')), `${dir} is not installed`);
});

promise('the entry points usbfn, usbfn/emulator, usbfn/windows, usbfn/protocols, usbfn/functionfs are exported with types', async () => {
  same(Object.keys(meta.exports).filter((k) => k !== './package.json'), ['.', './emulator', './windows', './protocols', './functionfs'], 'exports');
  for (const [key, entry] of Object.entries(meta.exports)) {
    if (key === './package.json') continue;
    ok(existsSync(path.join(project, 'node_modules/usbfn', entry.types)), `${key}: ${entry.types} is missing`);
    await import(`usbfn${key.slice(1)}`);
  }
  ok(existsSync(path.join(project, 'node_modules/usbfn', meta.types)), 'the top-level types');
});

promise('usbfn/windows exports discovery, watching, the opener, openWin32Device and Win32IoctlDevice; off Windows they fail USBFN_ERR_PLATFORM', async () => {
  const windows = await import('usbfn/windows');
  for (const name of ['listDeviceInterfaces', 'watchDeviceInterfaces', 'win32DriverOpener', 'openWin32Device', 'Win32IoctlDevice']) ok(typeof windows[name] === 'function', `usbfn/windows lacks ${name}`);
  if (process.platform === 'win32') return;
  let code;
  try {
    windows.listDeviceInterfaces('{99a25997-c583-4f6c-b257-18431969118c}');
  } catch (err) {
    code = err.code;
  }
  same(code, 'USBFN_ERR_PLATFORM', 'listDeviceInterfaces off Windows');
});

/** Runs a quick-start-like program with `env`; returns its stdout and stderr. */
function runDemo(env) {
  const file = path.join(project, 'debug-demo.mjs');
  writeFileSync(file, `
import { UsbFnDevice, GenericUsbFnDriver } from 'usbfn';
import { EmulatedGenericUsbFn } from 'usbfn/emulator';
const emulated = new EmulatedGenericUsbFn();
const device = await UsbFnDevice.open({ driver: new GenericUsbFnDriver(emulated) });
device.control.handle({ type: 'vendor', request: 1 }, () => Buffer.from('v'));
const pipe = device.openPipe({ zlp: 'never' });
pipe.on('data', (c) => pipe.write(c));
await emulated.host.enumerate();
await emulated.host.controlTransfer({ bmRequestType: 0xc0, bRequest: 1, wValue: 0, wIndex: 0, wLength: 8 });
await emulated.host.controlTransfer({ bmRequestType: 0xc0, bRequest: 2, wValue: 0, wIndex: 0, wLength: 8 }).catch(() => {});
await emulated.host.bulkOut(0x01, Buffer.from('x'));
await emulated.host.bulkIn(0x81, 512);
await device.close();
console.log('done');
`);
  const r = spawnSync(process.execPath, [file], { cwd: project, env: { ...process.env, DEBUG: '', ...env }, encoding: 'utf8' });
  return { stdout: r.stdout, stderr: r.stderr, code: r.status };
}

promise('the library prints nothing itself; DEBUG=usbfn:* logs on usbfn:driver, usbfn:pipe, usbfn:control, usbfn:emulator', () => {
  const quiet = runDemo({});
  same([quiet.code, quiet.stdout, quiet.stderr], [0, 'done\n', ''], '[exit, stdout, stderr] without DEBUG');
  const loud = runDemo({ DEBUG: 'usbfn:*' });
  same(loud.stdout, 'done\n', 'stdout with DEBUG');
  for (const ns of ['usbfn:driver', 'usbfn:pipe', 'usbfn:control', 'usbfn:emulator']) ok(loud.stderr.includes(ns), `no ${ns} line in the debug log`);
});

promise('a README program runs as `npx tsx app.ts` (the quick start)', () => {
  const readme = readFileSync(path.join(project, 'node_modules/usbfn/README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('\n## Quick start'));
  const block = /```ts\n([\s\S]*?)\n```/.exec(section)[1];
  writeFileSync(path.join(project, 'app.ts'), block);
  const r = spawnSync(process.execPath, [path.join(project, 'node_modules/tsx/dist/cli.mjs'), 'app.ts'], { cwd: project, encoding: 'utf8' });
  same([r.status, r.stdout], [0, 'usbfn 1.0 ping\n'], `[exit, stdout] (stderr: ${r.stderr})`);
});

await runPromises();
