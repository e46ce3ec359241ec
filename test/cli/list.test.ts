/** `usbfn list` on Linux reads UDCs, configfs gadgets and FunctionFS mounts; says so when there are none. */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { jsonOf, runInProcess, spawnCli } from './helpers.js';

const test = suite('usbfn list');

async function fakeTree(): Promise<string> {
  const root = await mkdtemp(path.join(tmpdir(), 'usbfn-list-'));
  const udc = path.join(root, 'sys/class/udc/dummy_udc.0');
  await mkdir(udc, { recursive: true });
  await writeFile(path.join(udc, 'state'), 'configured\n');
  await writeFile(path.join(udc, 'current_speed'), 'high-speed\n');
  const gadget = path.join(root, 'sys/kernel/config/usb_gadget/g1');
  await mkdir(path.join(gadget, 'functions/ffs.usbfn'), { recursive: true });
  await writeFile(path.join(gadget, 'UDC'), 'dummy_udc.0\n');
  await writeFile(path.join(gadget, 'idVendor'), '0x1d6b\n');
  await writeFile(path.join(gadget, 'idProduct'), '0x0104\n');
  await mkdir(path.join(root, 'proc'), { recursive: true });
  await writeFile(path.join(root, 'proc/mounts'), 'proc /proc proc rw 0 0\nusbfn /dev/usb\\040ffs functionfs rw,relatime 0 0\n');
  return root;
}

test('the spawned command shows the UDC, the gadget and the FunctionFS mount of a sysfs tree', async () => {
  const root = await fakeTree();
  try {
    const r = await spawnCli(['list'], { env: { USBFN_SYSFS_ROOT: root } });
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stdout, /dummy_udc\.0 {2}state configured {2}speed high-speed/);
    assert.match(r.stdout, /g1 {2}0x1d6b:0x0104 {2}bound to dummy_udc\.0 {2}functions: ffs\.usbfn/);
    assert.match(r.stdout, /usbfn {2}at \/dev\/usb ffs/);
    const json = jsonOf(await runInProcess(['list', '--json'], { env: { USBFN_SYSFS_ROOT: root } }));
    assert.equal(json.functionFsMounts, [{ name: 'usbfn', mountPoint: '/dev/usb ffs' }]);
    assert.equal((json.udcs as unknown[]).length, 1);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('with nothing there it says so for each section and what to load, and still exits 0', async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'usbfn-empty-'));
  try {
    const r = await runInProcess(['list'], { env: { USBFN_SYSFS_ROOT: root } });
    assert.is(r.code, 0);
    assert.match(r.stdout, /none: this machine cannot act as a USB device \(for testing: modprobe dummy_hcd\)/);
    assert.match(r.stdout, /none \(modprobe libcomposite/);
    assert.match(r.stdout, /FunctionFS mounts[^\n]*\n {2}none/);
    assert.match(r.stdout, /note: .*sys\/class\/udc does not exist/);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('on a platform without a backend it exits 3 with a coded error', async () => {
  const r = await runInProcess(['list', '--json'], { platform: 'darwin' });
  assert.is(r.code, 3);
  assert.is((jsonOf(r).error as { code: string }).code, 'USBFN_ERR_PLATFORM');
});

test.run();
