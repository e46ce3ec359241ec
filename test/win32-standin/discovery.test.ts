/**
 * Discovery through cfgmgr32 (the stand-in's): listing by interface GUID, the CR_BUFFER_SMALL
 * retry, opening by GUID or link, arrival/removal notifications, and the platform error.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import * as assert from 'uvu/assert';
import { guidBytes, listDeviceInterfaces, openWin32Device, parseMultiString } from '../../lib/driver/genericusbfn/win32-discovery.js';
import { watchDeviceInterfaces } from '../../lib/driver/genericusbfn/win32-watch.js';
import { win32DriverOpener } from '../../lib/driver/genericusbfn/win32-opener.js';
import { EmulatedGenericUsbFn } from '../../lib/driver/emulator/index.js';
import { UsbFnDevice } from '../../lib/device/device.js';
import { setPlatformDriverOpener } from '../../lib/device/open-driver.js';
import { isUsbFnError } from '../../lib/errors.js';
import { GUID, OTHER_GUID, TRANSFER_OUT, echoHandler, standin, standinSuite, until } from './helpers.js';
import { STANDIN_DIR } from './build.js';

const test = standinSuite('win32 discovery');
let serial = 0;
const link = (guid: string) => `\\\\?\\USBFN#Disc#${process.pid}&${++serial}#${guid}`;
const guidOf = (n: number) => `{${n.toString(16).padStart(8, '0')}-1111-2222-3333-444455556666}`;

test('a GUID string becomes the 16-byte GUID struct (Data1–3 little-endian)', () => {
  assert.equal(Array.from(guidBytes('{01020304-0506-0708-090A-0B0C0D0E0F10}')),
    [4, 3, 2, 1, 6, 5, 8, 7, 9, 10, 11, 12, 13, 14, 15, 16]);
  assert.equal(guidBytes('01020304-0506-0708-090a-0b0c0d0e0f10'), guidBytes('{01020304-0506-0708-090A-0B0C0D0E0F10}'));
  assert.throws(() => guidBytes('not-a-guid'), (e: unknown) => isUsbFnError(e, 'USBFN_ERR_INVALID_ARG'));
});

test('a UTF-16 multi-string splits at NULs and ends at the empty string', () => {
  assert.equal(parseMultiString(Buffer.from('a\\b\0cé\0\0junk\0', 'utf16le')), ['a\\b', 'cé']);
  assert.equal(parseMultiString(Buffer.from('\0', 'utf16le')), []);
});

test('lists the present interfaces of a GUID only, in order; a removed one disappears', () => {
  const guid = guidOf(1);
  const a = link(guid);
  const b = link(guid);
  const ia = standin!.addInterface(guid, a, echoHandler());
  standin!.addInterface(guid, b, echoHandler());
  standin!.addInterface(OTHER_GUID, link(OTHER_GUID), echoHandler());
  assert.equal(listDeviceInterfaces(guid), [a, b]);
  standin!.removeInterface(ia);
  assert.equal(listDeviceInterfaces(guid), [b]);
  assert.equal(listDeviceInterfaces(guidOf(2)), []);
});

test('an interface arriving between the size query and the list read is retried for, and listed', () => {
  const guid = guidOf(3);
  const first = link(guid);
  const late = link(guid);
  standin!.addInterface(guid, first, echoHandler());
  standin!.armListRace(guid, late, echoHandler());
  assert.equal(listDeviceInterfaces(guid), [first, late]);
});

test('opens by GUID (the index-th present), by symbolic link (any case), or says NOT_FOUND', async () => {
  const guid = guidOf(4);
  const l0 = link(guid);
  const l1 = link(guid);
  standin!.addInterface(guid, l0, echoHandler(0, 0x10));
  standin!.addInterface(guid, l1, echoHandler(0, 0x11));
  const out = new Uint8Array(1);
  for (const [dev, fill] of [[openWin32Device({ interfaceGuid: guid }), 0x10], [openWin32Device({ interfaceGuid: guid, index: 1 }), 0x11],
    [openWin32Device({ symbolicLink: l1.toUpperCase() }), 0x11]] as const) {
    await dev.ioctl(TRANSFER_OUT, Uint8Array.of(1, 0, 0, 0), out);
    assert.is(out[0], fill);
    await dev.close();
  }
  const notFound = (f: () => unknown) => assert.throws(f, (e: unknown) => isUsbFnError(e, 'USBFN_ERR_NOT_FOUND'));
  notFound(() => openWin32Device({ interfaceGuid: guid, index: 2 }));
  notFound(() => openWin32Device({ interfaceGuid: guidOf(5) }));
  notFound(() => openWin32Device({ symbolicLink: '\\\\?\\nothing-here' }));
  assert.throws(() => openWin32Device({}), (e: unknown) => isUsbFnError(e, 'USBFN_ERR_INVALID_ARG'));
});

test('watch: arrival and removal arrive as events with the symbolic link; close stops them', async () => {
  const guid = guidOf(6);
  const before = standin!.stats().registrations;
  const watcher = watchDeviceInterfaces(guid, { persistent: false });
  const seen: string[] = [];
  watcher.on('arrival', (l) => seen.push(`+${l}`));
  watcher.on('removal', (l) => seen.push(`-${l}`));
  const l = link(guid);
  const id = standin!.addInterface(guid, l, echoHandler());
  standin!.addInterface(OTHER_GUID, link(OTHER_GUID), echoHandler()); // not watched
  standin!.removeInterface(id);
  await until(() => seen.length === 2, 'two notifications');
  assert.equal(seen, [`+${l}`, `-${l}`]);
  await watcher.close();
  assert.is(standin!.stats().registrations, before);
  standin!.addInterface(guid, link(guid), echoHandler());
  await new Promise((r) => setTimeout(r, 20));
  assert.is(seen.length, 2, 'nothing after close');
});

test('closing a watcher while notifications are being delivered does not deadlock', async () => {
  const guid = guidOf(7);
  for (let round = 0; round < 20; round++) {
    const watcher = watchDeviceInterfaces(guid, { persistent: false });
    let n = 0;
    watcher.on('arrival', () => n++);
    for (let i = 0; i < 5; i++) standin!.addInterface(guid, link(guid), echoHandler());
    if (round % 2) await new Promise((r) => setImmediate(r));
    await watcher.close(); // CM_Unregister_Notification waits for a callback waiting for this thread
    assert.ok(n <= 5);
  }
});

test('UsbFnDevice.open({ interfaceGuid }) with the Win32 opener reaches the device through cfgmgr32 and kernel32', async () => {
  const guid = guidOf(8);
  const emu = new EmulatedGenericUsbFn({ interfaceName: 'Opener' });
  standin!.addInterface(guid, link(guid), emu);
  const previous = setPlatformDriverOpener(win32DriverOpener());
  try {
    const device = await UsbFnDevice.open({ interfaceGuid: guid });
    assert.is(device.classInfo.interfaceName, 'Opener');
    assert.ok(emu.activated, 'ACTIVATE_USB_BUS reached the emulator');
    await emu.host.enumerate({ speed: 'high' });
    await device.close();
    assert.ok(emu.closed, 'closing the device closed the handle, and the emulator heard of it');
    const missing = await UsbFnDevice.open({ interfaceGuid: guidOf(9) }).then(() => null, (e: unknown) => e);
    assert.ok(isUsbFnError(missing, 'USBFN_ERR_NOT_FOUND'), String(missing));
  } finally {
    setPlatformDriverOpener(previous);
  }
});

test('off Windows with no stand-in configured, opening says Windows is needed (USBFN_ERR_PLATFORM)', () => {
  if (process.platform === 'win32') return;
  const script = `import('${path.join(STANDIN_DIR, '../../lib/driver/genericusbfn/win32-discovery.ts').replace(/\\/g, '/')}')
    .then((m) => { try { m.openWin32Device({ interfaceGuid: '${GUID}' }); console.log('opened?!'); } catch (e) { console.log(e.code, e.message); } });`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.match(r.stdout, /^USBFN_ERR_PLATFORM .*needs Windows/);
});

test.run();
