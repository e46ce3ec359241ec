// README "The `usbfn` command": each command line of the README run as shown where it can run
// here (the emulator anywhere; on Linux without a UDC the documented refusals), --help, --json,
// the exit codes, the hints, the .reg file, and `usbfn emulate`'s device-script contract.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promise, runPromises, same, ok } from './harness.mjs';

const project = process.cwd();
const meta = JSON.parse(readFileSync(path.join(project, 'node_modules/usbfn/package.json'), 'utf8'));
const bin = path.join(project, 'node_modules/usbfn', meta.bin.usbfn);
const scratch = mkdtempSync(path.join(tmpdir(), 'usbfn-cli-'));
const COMMANDS = ['list', 'info', 'loopback', 'serial', 'emulate', 'bench', 'windows-config'];

/** Runs `usbfn ...args` as a user's shell would; `whileRunning(child, output)` may act on it. */
function usbfn(args, { input, whileRunning } = {}) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: scratch, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, DEBUG: '' } });
    const output = { stdout: '', stderr: '' };
    child.stdout.on('data', (d) => (output.stdout += d));
    child.stderr.on('data', (d) => (output.stderr += d));
    child.on('close', (code) => resolve({ code, ...output }));
    if (input !== undefined) child.stdin.end(input);
    whileRunning?.(child, output);
  });
}

const json = (r) => {
  try {
    return JSON.parse(r.stdout);
  } catch {
    throw new Error(`stdout is not one JSON document:\n${r.stdout}\nstderr:\n${r.stderr}`);
  }
};
const expectExit = (r, code, what) => ok(r.code === code, `${what}: exit ${r.code}, expected ${code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);

promise('package.json bin names usbfn, and npm linked it into node_modules/.bin', () => {
  ok(existsSync(bin), `bin ${meta.bin.usbfn} is not in the package`);
  ok(existsSync(path.join(project, 'node_modules/.bin', process.platform === 'win32' ? 'usbfn.cmd' : 'usbfn')), 'node_modules/.bin/usbfn');
});

promise('usbfn --help lists the seven commands and exits 0; no command prints it and exits 2 (usage)', async () => {
  const r = await usbfn(['--help']);
  expectExit(r, 0, '--help');
  for (const c of COMMANDS) ok(new RegExp(`^  ${c}\\s`, 'm').test(r.stdout), `--help does not list ${c}`);
  expectExit(await usbfn([]), 2, 'no command');
});

promise('every command takes --help (exit 0) and --json', async () => {
  for (const c of COMMANDS) {
    const r = await usbfn([c, '--help']);
    expectExit(r, 0, `${c} --help`);
    ok(r.stdout.startsWith(`usbfn ${c}`) && r.stdout.includes('--json'), `${c} --help:\n${r.stdout}`);
  }
});

promise('usage errors exit 2 and say what to do next: an unknown command, option or value', async () => {
  for (const args of [['bogus'], ['info', '--bogus'], ['info', '--emulate', '--speed', 'ultra'], ['loopback', '--emulate', '--bytes', 'abc'], ['emulate']]) {
    const r = await usbfn(args);
    expectExit(r, 2, args.join(' '));
    ok(/^usbfn: .+\n  next: /m.test(r.stderr), `${args.join(' ')}: no "next:" hint:\n${r.stderr}`);
  }
  const asJson = json(await usbfn(['info', '--bogus', '--json']));
  same([asJson.error?.exitCode, asJson.error?.code, typeof asJson.error?.message, typeof asJson.error?.hint], [2, 'USBFN_CLI_USAGE', 'string', 'string'], '--json error document');
});

promise('usbfn list (Linux: UDCs, configfs gadgets, FunctionFS mounts), as text and as one JSON document', async () => {
  if (process.platform !== 'linux') return;
  const text = await usbfn(['list']);
  expectExit(text, 0, 'list');
  for (const what of ['USB device controllers', 'configfs gadgets', 'FunctionFS mounts']) ok(text.stdout.includes(what), `list does not show ${what}`);
  const doc = json(await usbfn(['list', '--json']));
  same([doc.platform, Array.isArray(doc.udcs), Array.isArray(doc.gadgets), Array.isArray(doc.functionFsMounts)], ['linux', true, true, true], 'list --json');
});

promise('usbfn info --emulate --function serial: name, GUID, state, speed, pipes per speed', async () => {
  const text = await usbfn(['info', '--emulate', '--function', 'serial']);
  expectExit(text, 0, 'info');
  for (const what of ['usbfn_serial', 'GUID', 'configured', 'high speed', 'full-speed pipes', 'high-speed pipes', 'super-speed pipes']) ok(text.stdout.includes(what), `info does not show ${what}:\n${text.stdout}`);
  const doc = json(await usbfn(['info', '--emulate', '--function', 'serial', '--json']));
  same([doc.interfaceName, /^\{[0-9A-F-]{36}\}$/i.test(doc.interfaceGuid), doc.state, doc.speed, Object.keys(doc.pipes)], ['usbfn_serial', true, 'configured', 'high', ['full', 'high', 'super']], 'info --json');
  same(doc.pipes.high.map((p) => `${p.address} ${p.direction} ${p.type}`), ['0x83 in interrupt', '0x81 in bulk', '0x02 out bulk'], 'the serial pipes');
});

promise('usbfn loopback --emulate --bytes 16M: the host checks the echo byte for byte (exit 0); progress on stderr', async () => {
  const r = await usbfn(['loopback', '--emulate', '--bytes', '16M']);
  expectExit(r, 0, 'loopback');
  ok(/16777216 bytes echoed byte-exact/.test(r.stdout), r.stdout);
  const doc = json(await usbfn(['loopback', '--emulate', '--bytes', '1M', '--json']));
  same([doc.bytes, doc.byteExact, doc.firstMismatch], [1048576, true, null], 'loopback --json');
});

promise('echo hello | usbfn serial --emulate: the emulated host echoes it back on stdout; --json notes are JSON lines on stderr', async () => {
  const r = await usbfn(['serial', '--emulate'], { input: 'hello\n' });
  expectExit(r, 0, 'serial');
  same(r.stdout, 'hello\n', 'stdout');
  const j = await usbfn(['serial', '--emulate', '--json'], { input: 'hello\n' });
  expectExit(j, 0, 'serial --json');
  same(j.stdout, 'hello\n', 'stdout with --json');
  const notes = j.stderr.trim().split('\n').map((l) => JSON.parse(l));
  ok(notes.some((n) => n.lineCoding?.baudRate === 115200) && notes.some((n) => n.sent === 6 && n.received === 6), `notes: ${j.stderr}`);
});

promise('usbfn serial --emulate --tcp 0: one TCP client on 127.0.0.1, echoed; Ctrl-C ends it with exit 0', async () => {
  let echoed = '';
  const r = await usbfn(['serial', '--emulate', '--tcp', '0'], {
    whileRunning(child, output) {
      const poll = setInterval(() => {
        const m = /listening on 127\.0\.0\.1:(\d+)/.exec(output.stderr);
        if (!m) return;
        clearInterval(poll);
        const socket = net.connect(Number(m[1]), '127.0.0.1', () => socket.write('over tcp'));
        socket.on('data', (d) => {
          echoed += d;
          if (echoed === 'over tcp') {
            socket.destroy();
            child.kill('SIGINT');
          }
        });
      }, 20);
    },
  });
  same(echoed, 'over tcp', 'echoed over TCP');
  expectExit(r, 0, 'serial --tcp after Ctrl-C');
});

promise('on Linux without a UDC: a real device needs --ffs or --gadget (exit 3, USBFN_ERR_PLATFORM); a missing --ffs mount is exit 4; each says what to do next', async () => {
  if (process.platform !== 'linux' || existsSync('/sys/class/udc') || process.getuid?.() === 0 && existsSync('/sys/kernel/config/usb_gadget')) return;
  const bare = await usbfn(['serial', '--tcp', '5555', '--json']);
  expectExit(bare, 3, 'serial --tcp 5555');
  same(json(bare).error.code, 'USBFN_ERR_PLATFORM', 'code');
  const gadget = await usbfn(['info', '--gadget']);
  expectExit(gadget, 3, 'info --gadget');
  const missing = await usbfn(['info', '--ffs', path.join(scratch, 'no-such-mount')]);
  expectExit(missing, 4, 'info --ffs <missing>');
  for (const r of [bare, gadget, missing]) ok(/"hint"|next: /.test(r.stdout + r.stderr), `no hint: ${r.stdout}${r.stderr}`);
  ok(/--ffs/.test(missing.stderr), `the hint of a missing --ffs mount does not mention --ffs: ${missing.stderr}`);
});

promise('usbfn emulate ./my-device.mjs: the default export gets { device, host, log, signal } after enumeration; log() notes go to stderr', async () => {
  writeFileSync(path.join(scratch, 'my-device.mjs'), `
export default async function ({ device, host, log, signal }) {
  log(JSON.stringify({ configured: device.configured, signal: signal instanceof AbortSignal }));
  const pipe = device.openPipe();
  pipe.pipe(pipe);
  await host.bulkOut(0x01, Buffer.from('ping'));
  log(Buffer.from(await host.bulkIn(0x81, 512)).toString());
}`);
  const r = await usbfn(['emulate', './my-device.mjs']);
  expectExit(r, 0, 'emulate');
  same(r.stderr.trim().split('\n'), ['{"configured":true,"signal":true}', 'ping'], 'notes');
  const j = await usbfn(['emulate', './my-device.mjs', '--json']);
  same(j.stderr.trim().split('\n').map((l) => JSON.parse(l).note), ['{"configured":true,"signal":true}', 'ping'], '--json notes');
  expectExit(await usbfn(['emulate', './no-such-device.mjs']), 2, 'a missing script');
});

promise("usbfn emulate: a script's `description` presents another interface; a throw exits 1", async () => {
  writeFileSync(path.join(scratch, 'serial-device.mjs'), `
import { serialInterfaceDeclaration } from 'usbfn/protocols';
export const description = serialInterfaceDeclaration();
export default async function ({ device, log }) {
  log(device.pipes.map((p) => p.endpointAddress.toString(16)).join(' '));
}`);
  writeFileSync(path.join(scratch, 'package.json'), '{"type":"module"}');
  // the script imports usbfn from its own folder, as a user's project would
  const link = path.join(scratch, 'node_modules');
  if (!existsSync(link)) (await import('node:fs')).symlinkSync(path.join(project, 'node_modules'), link, 'dir');
  const r = await usbfn(['emulate', 'serial-device.mjs']);
  expectExit(r, 0, 'emulate serial-device.mjs');
  same(r.stderr.trim(), '83 81 2', 'the pipes of the declared interface');
  writeFileSync(path.join(scratch, 'failing.mjs'), 'export default async () => { throw new Error("boom"); };');
  const failed = await usbfn(['emulate', 'failing.mjs']);
  expectExit(failed, 1, 'a throwing script');
  ok(/boom/.test(failed.stderr) && /next: /.test(failed.stderr), `a failing script's message and hint: ${failed.stderr}`);
});

promise('usbfn emulate: a script that waits for its signal runs until Ctrl-C, then the device closes', async () => {
  writeFileSync(path.join(scratch, 'until-ctrl-c.mjs'), `
export default async function ({ log, signal }) {
  log('running');
  await new Promise((resolve) => signal.addEventListener('abort', resolve));
  log('stopping');
}`);
  const r = await usbfn(['emulate', 'until-ctrl-c.mjs'], {
    whileRunning(child, output) {
      const poll = setInterval(() => {
        if (!output.stderr.includes('running')) return;
        clearInterval(poll);
        child.kill('SIGINT');
      }, 20);
    },
  });
  same(r.stderr.trim().split('\n'), ['running', 'stopping'], 'notes');
  expectExit(r, 0, 'after Ctrl-C');
});

promise('usbfn loopback --emulate and bench --emulate interrupted by Ctrl-C exit 130 (interrupted)', async () => {
  // loopback while both directions run; bench in each of its two phases
  const runs = [[['loopback', '--emulate', '--bytes', '1G'], '"progress":"echoed"'], [['bench', '--emulate', '--bytes', '256M', '--chunk', '64k'], '"progress":"host-to-device"'],
    [['bench', '--emulate', '--bytes', '256M', '--chunk', '64k'], '"progress":"device-to-host"']];
  for (const [args, phase] of runs) {
    const r = await usbfn([...args, '--json'], {
      whileRunning(child, output) {
        const poll = setInterval(() => {
          if (!output.stderr.includes(phase)) return;
          clearInterval(poll);
          child.kill('SIGINT');
        }, 20);
      },
    });
    expectExit(r, 130, `${args.join(' ')}, at ${phase}`);
    same(json(r).error?.exitCode, 130, `${args[0]}: --json error document`);
  }
});

promise('usbfn bench --emulate: MB/s each way', async () => {
  const doc = json(await usbfn(['bench', '--emulate', '--bytes', '4M', '--json']));
  same(doc.results.map((r) => [r.direction, r.bytes, r.megabytesPerSecond > 0]), [['host-to-device', 4194304, true], ['device-to-host', 4194304, true]], 'bench --json');
  const text = await usbfn(['bench', '--emulate', '--bytes', '4M']);
  expectExit(text, 0, 'bench');
  ok(/MB\/s/.test(text.stdout), text.stdout);
});

promise('usbfn windows-config --out: UTF-16LE with a BOM, the keys and values the README lists, the GUID in the file', async () => {
  const r = await usbfn(['windows-config', '--function', 'serial', '--function', 'bulk', '--vid', '0x1209', '--pid', '0x0001', '--manufacturer', 'Acme', '--product', 'Widget', '--include-default', '--out', 'usbfn.reg']);
  expectExit(r, 0, 'windows-config');
  const bytes = readFileSync(path.join(scratch, 'usbfn.reg'));
  same([bytes[0], bytes[1]], [0xff, 0xfe], 'BOM');
  const reg = bytes.subarray(2).toString('utf16le');
  const root = 'HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\USBFN';
  ok(reg.startsWith('Windows Registry Editor Version 5.00'), 'header');
  for (const line of [`[${root}\\Interfaces\\usbfn_serial]`, `[${root}\\Interfaces\\usbfn_bulk]`, `[${root}\\Configurations\\usbfn]`, `[${root}]`,
    '"InterfaceGUID"="{', '"InterfaceDescriptor"=hex:09,04,', '"InterfaceList"=hex(7):', '"CurrentConfiguration"="usbfn"', '"idVendor"=dword:00001209',
    '"idProduct"=dword:00000001', '"ManufacturerString"="Acme"', '"ProductString"="Widget"', '"IncludeDefaultCfg"=dword:00000001']) {
    ok(reg.includes(line), `the .reg file lacks ${line}`);
  }
  const printed = await usbfn(['windows-config', '--function', 'serial']);
  ok(printed.stdout.includes('[HKEY_LOCAL_MACHINE') && printed.code === 0, 'without --out the .reg text is printed');
});

promise("the README's sample .reg: its InterfaceDescriptor is what windows-config writes for a bulk function, its InterfaceList the one name", async () => {
  const readme = readFileSync(path.join(project, 'node_modules/usbfn/README.md'), 'utf8');
  const sample = /```reg\n([\s\S]*?)\n```/.exec(readme)[1];
  const value = (text, name) => new RegExp(`"${name}"=hex(?:\\(7\\))?:([0-9a-f,\\\\\\s]+)`).exec(text)?.[1].replace(/[\\\s]/g, '');
  const generated = (await usbfn(['windows-config', '--function', 'bulk'])).stdout;
  ok(value(sample, 'InterfaceDescriptor')?.startsWith('09,04,') && value(generated, 'InterfaceDescriptor')?.startsWith('09,04,'), 'an InterfaceDescriptor to compare');
  same(value(sample, 'InterfaceDescriptor'), value(generated, 'InterfaceDescriptor'), 'InterfaceDescriptor');
  const list = Buffer.from(value(sample, 'InterfaceList').split(',').map((h) => parseInt(h, 16))).toString('utf16le');
  same(list, 'UsbfnExample\0\0', 'InterfaceList (REG_MULTI_SZ)');
  ok(sample.includes('[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\USBFN\\Interfaces\\UsbfnExample]'), 'the interface key is named UsbfnExample');
});

await runPromises(120_000);
rmSync(scratch, { recursive: true, force: true });
