/** The configfs gadget helper says what is missing, with USBFN_ERR_PLATFORM, before touching anything. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createGadget } from '../../lib/driver/functionfs/configfs-gadget.js';
import { isUsbFnError } from '../../lib/errors.js';

const root = process.getuid?.() === 0;
const fail = (p: Promise<unknown>) => p.then(() => null, (e: unknown) => e as Error);

function sandbox(): { configfs: string; udcs: string; done(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'usbfn-gadget-'));
  const configfs = path.join(dir, 'config');
  const udcs = path.join(dir, 'udc');
  fs.mkdirSync(path.join(configfs, 'other'), { recursive: true }); // non-empty: looks mounted
  fs.mkdirSync(udcs);
  return { configfs, udcs, done: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

if (!root) {
  test('without root the helper says root is needed', async () => {
    const err = await fail(createGadget({ loadModules: false }));
    assert.ok(isUsbFnError(err, 'USBFN_ERR_PLATFORM'));
    assert.match(err!.message, /needs root/);
  });
} else {
  test('configfs without usb_gadget: libcomposite is named', async () => {
    const s = sandbox();
    const err = await fail(createGadget({ configfsRoot: s.configfs, udcClassDir: s.udcs, loadModules: false }));
    assert.ok(isUsbFnError(err, 'USBFN_ERR_PLATFORM'));
    assert.match(err!.message, /libcomposite/);
    s.done();
  });

  test('no UDC: the message says to load a UDC driver, and nothing is created', async () => {
    const s = sandbox();
    fs.mkdirSync(path.join(s.configfs, 'usb_gadget'));
    const err = await fail(createGadget({ configfsRoot: s.configfs, udcClassDir: s.udcs, loadModules: false }));
    assert.ok(isUsbFnError(err, 'USBFN_ERR_PLATFORM'));
    assert.match(err!.message, /no USB device controller/);
    assert.equal(fs.readdirSync(path.join(s.configfs, 'usb_gadget')), []);
    s.done();
  });

  test('a named UDC that is absent is refused with the ones present', async () => {
    const s = sandbox();
    fs.mkdirSync(path.join(s.configfs, 'usb_gadget'));
    fs.mkdirSync(path.join(s.udcs, 'dummy_udc.0'));
    const err = await fail(createGadget({ configfsRoot: s.configfs, udcClassDir: s.udcs, udc: 'fe980000.usb', loadModules: false }));
    assert.ok(isUsbFnError(err, 'USBFN_ERR_PLATFORM'));
    assert.match(err!.message, /fe980000\.usb.*dummy_udc\.0/);
    s.done();
  });
}

test.run();
