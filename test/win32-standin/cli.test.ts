/**
 * The `usbfn` command on its Windows path, through koffi and the kernel32/cfgmgr32 stand-in:
 * `list` finds GenericUSBFn device interfaces by GUID, `info --guid` opens one, `serial --guid`
 * bridges a CDC-ACM function to TCP, and an unknown GUID is exit 4 with what to check.
 */
import net from 'node:net';
import * as assert from 'uvu/assert';
import { EmulatedGenericUsbFn } from '../../lib/driver/emulator/index.js';
import { emulatorOptionsFor } from '../../lib/protocols/interface-declaration.js';
import { serialInterfaceDeclaration } from '../../lib/protocols/cdc-acm.js';
import { jsonOf, runInProcess } from '../cli/helpers.js';
import { standin, standinSuite } from './helpers.js';

const test = standinSuite('usbfn command on the win32 path (stand-in)');
let serial = 0;
const guidOf = (n: number) => `{${n.toString(16).padStart(8, '0')}-5EED-4C11-9A00-00000000C11A}`;

/** A serial function served behind a device interface of `guid`. */
function serveSerial(guid: string): { emu: EmulatedGenericUsbFn; link: string } {
  const emu = new EmulatedGenericUsbFn({ ...emulatorOptionsFor(serialInterfaceDeclaration({ interfaceGuid: guid })) });
  const link = `\\\\?\\USBFN#Cli#${process.pid}&${++serial}#${guid}`;
  standin!.addInterface(guid, link, emu);
  return { emu, link };
}

test('list --guid shows the device interfaces present for that GUID', async () => {
  const guid = guidOf(1);
  const { link } = serveSerial(guid);
  const r = await runInProcess(['list', '--json', '--guid', guid, '--guid', guidOf(2)], { platform: 'win32' });
  assert.is(r.code, 0, r.stderr);
  assert.equal(jsonOf(r).interfaces, [{ interfaceGuid: guid, paths: [link] }, { interfaceGuid: guidOf(2), paths: [] }]);
  const text = await runInProcess(['list', '--guid', guidOf(2)], { platform: 'win32' });
  assert.match(text.stdout, /no device interface \(is the interface in CurrentConfiguration\? see usbfn windows-config\)/);
});

test('info --guid opens the interface and describes it; an unknown GUID is exit 4 with a hint', async () => {
  const guid = guidOf(3);
  const { emu } = serveSerial(guid);
  const r = await runInProcess(['info', '--guid', guid, '--json'], { platform: 'win32' });
  assert.is(r.code, 0, r.stderr);
  const info = jsonOf(r) as { interfaceName: string; interfaceGuid: string; emulated: boolean; pipes: { high: Array<{ address: string }> } };
  assert.equal([info.interfaceName, info.interfaceGuid, info.emulated], ['usbfn_serial', guid, false]);
  assert.equal(info.pipes.high.map((p) => p.address), ['0x83', '0x81', '0x02']);
  assert.ok(emu.closed, 'info closed the handle');
  const missing = await runInProcess(['info', '--guid', guidOf(4)], { platform: 'win32' });
  assert.is(missing.code, 4);
  assert.match(missing.stderr, /next: check the InterfaceGUID/);
});

test('serial --guid --tcp bridges the host\'s bytes to a TCP client and back', async () => {
  const guid = guidOf(5);
  const { emu } = serveSerial(guid);
  const stop = new AbortController();
  let listening!: (port: number) => void;
  const port = new Promise<number>((resolve) => (listening = resolve));
  const run = runInProcess(['serial', '--guid', guid, '--tcp', '0'], {
    platform: 'win32',
    signal: stop.signal,
    onStderr: (text) => {
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(text);
      if (m) listening(Number(m[1]));
    },
  });
  await emu.host.enumerate({ speed: 'high' });
  const socket = net.connect(await port, '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  const fromDevice = new Promise<string>((resolve) => socket.once('data', (d: Buffer) => resolve(d.toString())));
  await emu.host.bulkOut(0x02, Buffer.from('from host'), { timeoutMs: 10000 });
  assert.is(await fromDevice, 'from host');
  socket.write('to host');
  assert.is(Buffer.from(await emu.host.bulkIn(0x81, 512, { timeoutMs: 10000 })).toString(), 'to host');
  socket.destroy();
  stop.abort();
  assert.is((await run).code, 0);
});

test.run();
