import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as IOCTL from '../../native-defs/ioctl.js';

// Values from genericusbfn.md §1 (checked there against GenericUsbFnIoctl.h).
const SPEC: [keyof typeof IOCTL.GENERICUSBFN_IOCTLS, number, number, number][] = [
  ['IOCTL_GENERICUSBFN_TRANSFER_IN', 0x03, IOCTL.METHOD_IN_DIRECT, 0x0022c00d],
  ['IOCTL_GENERICUSBFN_TRANSFER_IN_APPEND_ZERO_PKT', 0x04, IOCTL.METHOD_IN_DIRECT, 0x0022c011],
  ['IOCTL_GENERICUSBFN_TRANSFER_OUT', 0x05, IOCTL.METHOD_OUT_DIRECT, 0x0022c016],
  ['IOCTL_GENERICUSBFN_CONTROL_STATUS_HANDSHAKE_IN', 0x06, IOCTL.METHOD_BUFFERED, 0x0022c018],
  ['IOCTL_GENERICUSBFN_CONTROL_STATUS_HANDSHAKE_OUT', 0x07, IOCTL.METHOD_BUFFERED, 0x0022c01c],
  ['IOCTL_GENERICUSBFN_GET_CLASS_INFO', 0x08, IOCTL.METHOD_OUT_DIRECT, 0x0022c022],
  ['IOCTL_GENERICUSBFN_GET_PIPE_STATE', 0x09, IOCTL.METHOD_OUT_DIRECT, 0x0022c026],
  ['IOCTL_GENERICUSBFN_SET_PIPE_STATE', 0x0a, IOCTL.METHOD_IN_DIRECT, 0x0022c029],
  ['IOCTL_GENERICUSBFN_ACTIVATE_USB_BUS', 0x0b, IOCTL.METHOD_BUFFERED, 0x0022c02c],
  ['IOCTL_GENERICUSBFN_DEACTIVATE_USB_BUS', 0x0c, IOCTL.METHOD_BUFFERED, 0x0022c030],
  ['IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION', 0x0d, IOCTL.METHOD_OUT_DIRECT, 0x0022c036],
  ['IOCTL_GENERICUSBFN_GET_CLASS_INFO_EX', 0x0e, IOCTL.METHOD_OUT_DIRECT, 0x0022c03a],
  ['IOCTL_GENERICUSBFN_GET_INTERFACE_DESCRIPTOR_SET', 0x0f, IOCTL.METHOD_OUT_DIRECT, 0x0022c03e],
  ['IOCTL_GENERICUSBFN_REGISTER_USB_STRING', 0x10, IOCTL.METHOD_IN_DIRECT, 0x0022c041],
];

test('ctlCode packs type, access, function and method as winioctl.h does', () => {
  assert.is(IOCTL.ctlCode(0x22, 0x03, 1, 3), 0x0022c00d);
  assert.is(IOCTL.ctlCode(0xffff, 0xfff, 3, 3), 0xffffffff, 'unsigned, not negative');
  assert.is(IOCTL.ctlCode(0x2a, 0x01, 0, 0), 0x002a0004);
});

for (const [name, fn, method, value] of SPEC) {
  test(`${name} is 0x${value.toString(16).padStart(8, '0')} (fn 0x${fn.toString(16)}, method ${method})`, () => {
    assert.is(IOCTL[name], value);
    assert.is(IOCTL.GENERICUSBFN_IOCTLS[name], value);
    assert.is(IOCTL.ctlCode(IOCTL.FILE_DEVICE_UNKNOWN, fn, method, IOCTL.FILE_READ_DATA | IOCTL.FILE_WRITE_DATA), value);
    assert.is(IOCTL.ioctlMethod(value), method);
    assert.is(IOCTL.ioctlName(value), name);
  });
}

test('exactly the 14 codes of the header, all distinct', () => {
  const codes = Object.values(IOCTL.GENERICUSBFN_IOCTLS);
  assert.is(codes.length, 14);
  assert.is(new Set(codes).size, 14);
});

test('ioctlName says undefined for a code GenericUSBFn.sys does not define', () => {
  assert.is(IOCTL.ioctlName(0x0022c000), undefined);
  assert.is(IOCTL.ioctlName(IOCTL.ctlCode(0x2a, 0x03, 1, 0)), undefined, 'kernel-side twin');
});

test.run();
