/** Contract: EP0 data and status stages, strings, descriptor set, Win32 error mapping. */
import * as assert from 'uvu/assert';
import type { TestBackend } from '../backend-types.js';
import { ErrorCodes, type UsbFnErrorCode } from '../../lib/errors.js';
import * as IOCTL from '../../native-defs/ioctl.js';
import { bytes, configured, contractSuite, rejectsWith, withStack } from './helpers.js';

const CLASS_IN = { bmRequestType: 0xa1, bRequest: 0x21, wValue: 0, wIndex: 0 };
const CLASS_OUT = { bmRequestType: 0x21, bRequest: 0x20, wValue: 0, wIndex: 0 };

export function controlSuite(backend: TestBackend): void {
  const test = contractSuite('contract/control', backend);

  test('device-to-host setup: TRANSFER_IN on pipe 0 then HANDSHAKE_OUT gives the host the data', () =>
    withStack(backend, async (s) => {
      await configured(s);
      const reply = s.host.controlTransfer({ ...CLASS_IN, wLength: 7 });
      const ev = await s.driver.nextBusEvent();
      assert.equal(ev, { type: 'setup', setup: { ...CLASS_IN, wLength: 7 } });
      await s.driver.transferIn(0, Uint8Array.of(1, 2, 3, 4, 5, 6, 7));
      await s.driver.controlHandshakeOut();
      assert.equal(await reply, Uint8Array.of(1, 2, 3, 4, 5, 6, 7));
    }));

  test('a reply shorter than wLength and a multiple of EP0\'s packet size needs the ZLP to end', () =>
    withStack(backend, async (s) => {
      await configured(s);
      const reply = s.host.controlTransfer({ ...CLASS_IN, wLength: 255 });
      await s.driver.nextBusEvent();
      await s.driver.transferIn(0, bytes(64), { zlp: true });
      await s.driver.controlHandshakeOut();
      assert.equal(await reply, bytes(64));
    }));

  test('host-to-device setup: TRANSFER_OUT of wLength then HANDSHAKE_IN', () =>
    withStack(backend, async (s) => {
      await configured(s);
      const done = s.host.controlTransfer({ ...CLASS_OUT, wLength: 7 }, bytes(7));
      await s.driver.nextBusEvent();
      const buffer = new Uint8Array(7);
      assert.is(await s.driver.transferOut(0, buffer), 7);
      assert.equal(buffer, bytes(7));
      await s.driver.controlHandshakeIn();
      await done;
    }));

  test('no data stage: the status handshake alone completes the request', () =>
    withStack(backend, async (s) => {
      await configured(s);
      const done = s.host.controlTransfer({ ...CLASS_OUT, bRequest: 0x22, wLength: 0 });
      await s.driver.nextBusEvent();
      await s.driver.controlHandshakeOut();
      await done;
    }));

  test('stalling pipe 0 refuses the request: the host sees STALL', () =>
    withStack(backend, async (s) => {
      await configured(s);
      const done = rejectsWith(s.host.controlTransfer({ ...CLASS_IN, wLength: 4 }), ErrorCodes.STALLED);
      await s.driver.nextBusEvent();
      await s.driver.setPipeState(0, true);
      await done;
    }));

  test('a handshake with no setup packet waiting is refused as invalid state', () =>
    withStack(backend, async (s) => {
      await configured(s);
      await rejectsWith(s.driver.controlHandshakeIn(), ErrorCodes.INVALID_STATE);
      await rejectsWith(s.driver.controlHandshakeOut(), ErrorCodes.INVALID_STATE);
    }));

  test('the host times out on a device that never answers', () =>
    withStack(backend, async (s) => {
      await configured(s);
      const done = rejectsWith(s.host.controlTransfer({ ...CLASS_IN, wLength: 4 }, undefined, { timeoutMs: 30 }), ErrorCodes.TIMEOUT);
      await s.driver.nextBusEvent();
      await done;
    }));

  test.needs('genericusbfn-specifics')('registered strings are what the host reads; too long a string is refused here', () =>
    withStack(backend, async (s) => {
      await s.driver.activate();
      await s.driver.registerString(4, 'usbfn ✓');
      assert.is(s.host.getString(4), 'usbfn ✓');
      await rejectsWith(s.driver.registerString(5, 'x'.repeat(127)), ErrorCodes.INVALID_ARG);
      await rejectsWith(s.driver.registerString(0, 'langid'), ErrorCodes.INVALID_ARG);
    }));

  for (const mode of ['payload', 'total'] as const) {
    test.needs('data-with-error-completion', 'emulator-introspection', 'genericusbfn-specifics')(`descriptor set grows and retries on ERROR_INSUFFICIENT_BUFFER (Size counts ${mode})`, () =>
      withStack(backend, async (s) => {
        await s.driver.activate();
        const before = s.device.counts.GET_INTERFACE_DESCRIPTOR_SET ?? 0;
        const set = await s.driver.getInterfaceDescriptorSet(0, 'high');
        const issued = (s.device.counts.GET_INTERFACE_DESCRIPTOR_SET ?? 0) - before;
        assert.is(issued, 2, 'one refusal, one retry');
        assert.is(set.speed, 'high');
        assert.is(set.descriptors[0], 9, 'starts with an interface descriptor');
        assert.is(set.descriptors[1], 4);
        assert.is(set.descriptors.length, 9 + 2 * 7 + 40);
      }, { interfaceInfoSizeMode: mode, extraDescriptors: new Uint8Array(40).fill(0x24).map((v, i) => (i % 8 === 0 ? 8 : v)) },
      { interfaceInfoSizeMode: mode, initialDescriptorSetBuffer: 16 }));
  }

  const MAPPED: [number, UsbFnErrorCode][] = [
    [995, ErrorCodes.CANCELED], [1167, ErrorCodes.DISCONNECTED], [122, ErrorCodes.INSUFFICIENT_BUFFER], [87, ErrorCodes.INVALID_ARG],
    [50, ErrorCodes.NOT_SUPPORTED], [6, ErrorCodes.CLOSED], [2, ErrorCodes.NOT_FOUND], [31, ErrorCodes.DRIVER], [1234, ErrorCodes.DRIVER],
  ];
  test.needs('emulator-introspection', 'genericusbfn-specifics')('every Win32 error the spec names maps to its code, keeping number and name', () =>
    withStack(backend, async (s) => {
      for (const [errno, code] of MAPPED) {
        s.device.injectFault({ code: IOCTL.IOCTL_GENERICUSBFN_GET_CLASS_INFO, errno });
        const err = await rejectsWith(s.driver.getClassInfo(), code, `errno ${errno}`);
        assert.is(err.win32Error, errno);
        assert.is(err.operation, 'IOCTL_GENERICUSBFN_GET_CLASS_INFO');
      }
      assert.ok((await s.driver.getClassInfo()).high.pipes.length > 0, 'faults were one-shot');
    }));

  test.run();
}
