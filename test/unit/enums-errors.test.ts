import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as E from '../../native-defs/enums.js';
import * as W from '../../native-defs/win32-errors.js';

test('USBFN_EVENT values match usbfnbase.h, 0 and 12 are the bounds', () => {
  assert.equal(
    [E.UsbFnEvent.Minimum, E.UsbFnEvent.Attach, E.UsbFnEvent.Reset, E.UsbFnEvent.Detach, E.UsbFnEvent.Suspend, E.UsbFnEvent.Resume,
      E.UsbFnEvent.SetupPacket, E.UsbFnEvent.Configured, E.UsbFnEvent.UnConfigured, E.UsbFnEvent.PortType, E.UsbFnEvent.BusTearDown,
      E.UsbFnEvent.SetInterface, E.UsbFnEvent.Maximum],
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
  );
  assert.is(E.usbFnEventName(6), 'SetupPacket');
  assert.is(E.usbFnEventName(99), 'Unknown(99)', 'unknown values do not throw');
});

test('speed, port type, device state and direction enums match usbfnbase.h', () => {
  assert.equal(E.UsbFnBusSpeed, { Low: 0, Full: 1, High: 2, Super: 3 });
  assert.equal(Object.values(E.UsbFnPortType), [0, 1, 2, 3, 4, 5]);
  assert.equal(E.UsbFnDeviceState, { Attached: 1, Default: 2, Detached: 3, Addressed: 4, Configured: 5, Suspended: 6 });
  assert.equal(E.UsbFnDirection, { In: 1, Out: 2 });
  assert.is(E.usbFnPortTypeName(5), 'ProprietaryDedicatedCharging');
});

test('bmRequestType decodes direction bit 7, type bits 5-6, recipient bits 0-1', () => {
  assert.equal(E.decodeRequestType(0xa1), { direction: 'deviceToHost', type: 'class', recipient: 'interface' });
  assert.equal(E.decodeRequestType(0x21), { direction: 'hostToDevice', type: 'class', recipient: 'interface' });
  assert.equal(E.decodeRequestType(0xc0), { direction: 'deviceToHost', type: 'vendor', recipient: 'device' });
  assert.equal(E.decodeRequestType(0x02), { direction: 'hostToDevice', type: 'standard', recipient: 'endpoint' });
  assert.equal(E.decodeRequestType(0x1f).recipient, 'other', 'reserved recipients are reported as other');
  for (const b of [0x00, 0x21, 0xa1, 0xc0, 0x43, 0x83, 0x62]) assert.is(E.encodeRequestType(E.decodeRequestType(b)), b);
});

test('endpoint descriptor helpers read address and attribute bits', () => {
  assert.ok(E.endpointIsIn(0x81));
  assert.not.ok(E.endpointIsIn(0x01));
  assert.is(E.endpointNumber(0x8f), 15);
  assert.is(E.endpointType(0x02), 'bulk');
  assert.is(E.endpointType(0x03), 'interrupt');
  assert.is(E.endpointType(0x0d), 'isochronous', 'sync/usage bits ignored');
  assert.is(E.maxPacketBytes(0x1400), 1024, 'high-bandwidth multiplier bits ignored');
});

test('Win32 errors named by the spec have their SDK numbers and names', () => {
  const expected: Record<string, number> = {
    ERROR_IO_PENDING: 997, ERROR_OPERATION_ABORTED: 995, ERROR_INSUFFICIENT_BUFFER: 122, ERROR_DEVICE_NOT_CONNECTED: 1167,
    ERROR_GEN_FAILURE: 31, ERROR_INVALID_PARAMETER: 87, ERROR_NOT_SUPPORTED: 50, ERROR_INVALID_HANDLE: 6, ERROR_FILE_NOT_FOUND: 2,
  };
  for (const [name, n] of Object.entries(expected)) {
    assert.is((W as unknown as Record<string, number>)[name], n, name);
    assert.is(W.win32ErrorName(n), name);
  }
  assert.is(W.win32ErrorName(12345), 'WIN32_ERROR_12345');
});

test.run();
