/**
 * open(), close() and destroy(): idempotent, awaitable, cancel what is pending, close pipes,
 * release every pooled buffer and leave zero IOCTLs pending at the emulator.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as assert from 'uvu/assert';
import { classRequest, openDevice, rejection, settle, suitePerBackend, thrown } from './harness.js';
import {
  ErrorCodes, UsbFnDevice, UsbFnError, setPlatformDriverOpener, type PlatformDriverOpener,
} from '../../lib/index.js';
import { IOCTL_GENERICUSBFN_GET_CLASS_INFO, IOCTL_GENERICUSBFN_ACTIVATE_USB_BUS } from '../../native-defs/ioctl.js';

suitePerBackend('device lifecycle', (test, backend) => {
  test('close() with transfers pending everywhere releases everything', async () => {
    const s = await openDevice(backend);
    // Two streams with transfers pending, one per endpoint (a second stream on one endpoint is refused).
    const pipe = s.device.openPipe({ out: null });
    const reader = s.device.openReader({ out: 0x01 });
    pipe.on('error', () => undefined);
    reader.on('error', () => undefined);
    pipe.write(Buffer.alloc(100_000, 1)); // the host never reads: TRANSFER_IN stays pending
    pipe.resume();
    reader.resume();
    s.device.control.on('setup', (req) => void req.defer()); // EP0 left open
    const host = rejection(s.host.controlTransfer(classRequest('in', 0x01, 8)));
    await new Promise((resolve) => s.device.control.once('setup', resolve));
    await settle();
    assert.ok(s.emu.pending({ pipeId: 1 }) + s.emu.pending({ pipeId: 2 }) > 0, 'transfers are pending before close');
    const closed = new Promise<void>((resolve) => s.device.once('close', () => resolve()));
    const first = s.device.close();
    assert.is(s.device.close(), first, 'close() is idempotent: the same promise');
    await first;
    await closed;
    assert.is(s.emu.pending(), 0, 'no IOCTL pending at the emulator');
    assert.ok(pipe.destroyed && reader.destroyed);
    for (const stats of [pipe.stats, reader.stats]) {
      assert.is(stats.readsPending, 0);
      assert.is(stats.writesPending, 0);
      assert.is(stats.poolInUse, 0);
    }
    assert.is((await host).code, 'USBFN_ERR_DISCONNECTED');
    await s.close();
  });

  test('after close: new pipes throw CLOSED, events() ends at once, destroy() awaits the same close', async () => {
    const s = await openDevice(backend);
    await s.device.close();
    assert.ok(s.device.closed);
    assert.is(thrown(() => s.device.openPipe()).code, 'USBFN_ERR_CLOSED');
    assert.equal(await s.device.events().next(), { value: undefined, done: true });
    await s.device.destroy(new Error('ignored: already closed'));
    await s.close();
  });

  test("destroy(err) emits 'error' then 'close'", async () => {
    const s = await openDevice(backend);
    const order: string[] = [];
    const boom = new Error('boom');
    s.device.on('error', (err) => order.push(err === boom ? 'error' : 'wrong error'));
    s.device.on('close', () => order.push('close'));
    await Promise.all([s.device.destroy(boom), s.device.destroy(new Error('second'))]);
    assert.equal(order, ['error', 'close']);
    assert.is(s.emu.pending(), 0);
    await s.close();
  });

  test('a pipe opened before enumeration waits for configured, then flows', async () => {
    const s = await openDevice(backend, { enumerate: false });
    const pipe = s.device.openPipe();
    const echoed = new Promise<Buffer>((resolve) => pipe.once('data', resolve));
    await s.host.enumerate({ speed: 'high' });
    await s.host.bulkOut(0x01, Buffer.from('ping'));
    assert.is((await echoed).toString(), 'ping');
    await s.close();
  });

  test('openPipe() refuses an endpoint the interface lacks or of the wrong direction', async () => {
    const s = await openDevice(backend);
    assert.is(thrown(() => s.device.openPipe({ out: 0x02 })).code, 'USBFN_ERR_INVALID_ARG');
    assert.is(thrown(() => s.device.openPipe({ in: 0x01 })).code, 'USBFN_ERR_INVALID_ARG');
    assert.is(thrown(() => s.device.openWriter({ in: null })).code, 'USBFN_ERR_INVALID_ARG');
    await s.close();
  });

  test('open() rejects with the driver error and closes the driver when class info fails', async () => {
    const stack = await backend.create();
    stack.device.injectFault({ code: IOCTL_GENERICUSBFN_GET_CLASS_INFO });
    const err = await rejection(UsbFnDevice.open({ driver: stack.driver }));
    assert.is(err.code, 'USBFN_ERR_DRIVER');
    assert.ok(stack.device.closed, 'the driver (and the emulated device) were closed');
    await stack.close();
  });

  test('open() cleans up when ACTIVATE fails', async () => {
    const stack = await backend.create();
    stack.device.injectFault({ code: IOCTL_GENERICUSBFN_ACTIVATE_USB_BUS });
    await rejection(UsbFnDevice.open({ driver: stack.driver }));
    assert.ok(stack.device.closed);
    assert.is(stack.device.pending(), 0);
    await stack.close();
  });
});

suitePerBackend('device open without a driver', (test, backend) => {
  test('off Windows, the default opener rejects with PLATFORM', async () => {
    if (process.platform === 'win32') return;
    // In a fresh process: this one has the kernel32 stand-in configured for the koffi backend,
    // with which the default opener (rightly) looks the GUID up and says NOT_FOUND.
    const out = execFileSync(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('../fixtures/open-without-driver.ts', import.meta.url))], {
      encoding: 'utf8',
    });
    assert.equal(JSON.parse(out), { code: ErrorCodes.PLATFORM, isUsbFnError: true });
  });

  test('with the kernel32 stand-in configured, the default opener looks the GUID up', async () => {
    if (backend.name !== 'koffi-standin') return;
    const err = await rejection(UsbFnDevice.open({ interfaceGuid: '{00000000-0000-0000-0000-000000000000}' }));
    assert.is(err.code, ErrorCodes.NOT_FOUND);
    assert.instance(err, UsbFnError);
  });

  test('a registered platform opener is used with the target', async () => {
    let target: unknown;
    const opener: PlatformDriverOpener = async (t) => {
      target = t;
      return (await backend.create()).driver;
    };
    const previous = setPlatformDriverOpener(opener);
    try {
      const device = await UsbFnDevice.open({ path: '\\\\?\\usbfn#test' });
      assert.is((target as { path?: string }).path, '\\\\?\\usbfn#test');
      await device.close();
    } finally {
      setPlatformDriverOpener(previous);
    }
  });
});
