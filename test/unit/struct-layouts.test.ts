import { test } from 'uvu';
import * as assert from 'uvu/assert';
import koffi from 'koffi';
import * as S from '../../native-defs/structs.js';

type KType = Parameters<typeof koffi.sizeof>[0];

// Sizes, alignments and offsets from genericusbfn.md §5.
const SIZES: [string, unknown, number, number][] = [
  ['USB_DEFAULT_PIPE_SETUP_PACKET', S.USB_DEFAULT_PIPE_SETUP_PACKET, 8, 1],
  ['USB_ENDPOINT_DESCRIPTOR', S.USB_ENDPOINT_DESCRIPTOR, 7, 1],
  ['USB_INTERFACE_DESCRIPTOR', S.USB_INTERFACE_DESCRIPTOR, 9, 1],
  ['ALTERNATE_INTERFACE', S.ALTERNATE_INTERFACE, 4, 2],
  ['USBFN_NOTIFICATION', S.USBFN_NOTIFICATION, 12, 4],
  ['USBFN_PIPE_INFORMATION', S.USBFN_PIPE_INFORMATION, 12, 4],
  ['USBFN_CLASS_INTERFACE', S.USBFN_CLASS_INTERFACE, 196, 4],
  ['USBFN_CLASS_INTERFACE_EX', S.USBFN_CLASS_INTERFACE_EX, 196, 4],
  ['USBFN_CLASS_INFORMATION_PACKET', S.USBFN_CLASS_INFORMATION_PACKET, 748, 4],
  ['USBFN_CLASS_INFORMATION_PACKET_EX', S.USBFN_CLASS_INFORMATION_PACKET_EX, 748, 4],
  ['USBFN_INTERFACE_INFO', S.USBFN_INTERFACE_INFO, 12, 4],
  ['USBFN_USB_STRING', S.USBFN_USB_STRING, 512, 2],
];

for (const [name, type, size, align] of SIZES) {
  test(`${name} is ${size} bytes, align ${align}`, () => {
    assert.is(koffi.sizeof(type as KType), size);
    assert.is(koffi.alignof(type as KType), align);
  });
}

const OFFSETS: [unknown, string, number][] = [
  [S.USB_DEFAULT_PIPE_SETUP_PACKET, 'bmRequestType', 0],
  [S.USB_DEFAULT_PIPE_SETUP_PACKET, 'bRequest', 1],
  [S.USB_DEFAULT_PIPE_SETUP_PACKET, 'wValue', 2],
  [S.USB_DEFAULT_PIPE_SETUP_PACKET, 'wIndex', 4],
  [S.USB_DEFAULT_PIPE_SETUP_PACKET, 'wLength', 6],
  [S.USB_ENDPOINT_DESCRIPTOR, 'bEndpointAddress', 2],
  [S.USB_ENDPOINT_DESCRIPTOR, 'bmAttributes', 3],
  [S.USB_ENDPOINT_DESCRIPTOR, 'wMaxPacketSize', 4],
  [S.USB_ENDPOINT_DESCRIPTOR, 'bInterval', 6],
  [S.USB_INTERFACE_DESCRIPTOR, 'bNumEndpoints', 4],
  [S.USB_INTERFACE_DESCRIPTOR, 'iInterface', 8],
  [S.ALTERNATE_INTERFACE, 'AlternateInterfaceNumber', 2],
  [S.USBFN_NOTIFICATION, 'Event', 0],
  [S.USBFN_NOTIFICATION, 'u', 4],
  [S.USBFN_PIPE_INFORMATION, 'EpDesc', 0],
  [S.USBFN_PIPE_INFORMATION, 'PipeId', 8],
  [S.USBFN_CLASS_INTERFACE, 'InterfaceNumber', 0],
  [S.USBFN_CLASS_INTERFACE, 'PipeCount', 1],
  [S.USBFN_CLASS_INTERFACE, 'PipeArr', 4],
  [S.USBFN_CLASS_INTERFACE_EX, 'BaseInterfaceNumber', 0],
  [S.USBFN_CLASS_INTERFACE_EX, 'InterfaceCount', 1],
  [S.USBFN_CLASS_INTERFACE_EX, 'PipeCount', 2],
  [S.USBFN_CLASS_INTERFACE_EX, 'PipeArr', 4],
  [S.USBFN_CLASS_INFORMATION_PACKET, 'FullSpeedClassInterface', 0],
  [S.USBFN_CLASS_INFORMATION_PACKET, 'HighSpeedClassInterface', 196],
  [S.USBFN_CLASS_INFORMATION_PACKET, 'InterfaceName', 392],
  [S.USBFN_CLASS_INFORMATION_PACKET, 'InterfaceGuid', 472],
  [S.USBFN_CLASS_INFORMATION_PACKET, 'HasInterfaceGuid', 550],
  [S.USBFN_CLASS_INFORMATION_PACKET, 'SuperSpeedClassInterface', 552],
  [S.USBFN_CLASS_INFORMATION_PACKET_EX, 'FullSpeedClassInterfaceEx', 0],
  [S.USBFN_CLASS_INFORMATION_PACKET_EX, 'HighSpeedClassInterfaceEx', 196],
  [S.USBFN_CLASS_INFORMATION_PACKET_EX, 'SuperSpeedClassInterfaceEx', 392],
  [S.USBFN_CLASS_INFORMATION_PACKET_EX, 'InterfaceName', 588],
  [S.USBFN_CLASS_INFORMATION_PACKET_EX, 'InterfaceGuid', 668],
  [S.USBFN_CLASS_INFORMATION_PACKET_EX, 'HasInterfaceGuid', 746],
  [S.USBFN_INTERFACE_INFO, 'InterfaceNumber', 0],
  [S.USBFN_INTERFACE_INFO, 'Speed', 4],
  [S.USBFN_INTERFACE_INFO, 'Size', 8],
  [S.USBFN_INTERFACE_INFO, 'InterfaceDescriptorSet', 10],
  [S.USBFN_USB_STRING, 'StringIndex', 0],
  [S.USBFN_USB_STRING, 'UsbString', 2],
];

test('every field offset of the spec, as koffi lays the struct out', () => {
  for (const [type, field, offset] of OFFSETS) {
    assert.is(koffi.offsetof(type as KType, field), offset, field);
  }
});

test('LAYOUT constants used by the codecs agree with koffi', () => {
  const L = S.LAYOUT;
  const size = (t: unknown) => koffi.sizeof(t as KType);
  const off = (t: unknown, f: string) => koffi.offsetof(t as KType, f);
  assert.is(L.NOTIFICATION_SIZE, size(S.USBFN_NOTIFICATION));
  assert.is(L.PIPE_INFORMATION_SIZE, size(S.USBFN_PIPE_INFORMATION));
  assert.is(L.PIPE_INFORMATION_PIPE_ID_OFFSET, off(S.USBFN_PIPE_INFORMATION, 'PipeId'));
  assert.is(L.CLASS_INTERFACE_SIZE, size(S.USBFN_CLASS_INTERFACE));
  assert.is(L.CLASS_INFO_SIZE, size(S.USBFN_CLASS_INFORMATION_PACKET));
  assert.is(L.CLASS_INFO_SUPER_OFFSET, off(S.USBFN_CLASS_INFORMATION_PACKET, 'SuperSpeedClassInterface'));
  assert.is(L.CLASS_INFO_EX_HAS_GUID_OFFSET, off(S.USBFN_CLASS_INFORMATION_PACKET_EX, 'HasInterfaceGuid'));
  assert.is(L.INTERFACE_INFO_SET_OFFSET, off(S.USBFN_INTERFACE_INFO, 'InterfaceDescriptorSet'));
  assert.is(L.USB_STRING_SIZE, size(S.USBFN_USB_STRING));
});

test('constants of usbfnbase.h', () => {
  assert.is(S.MAX_NUM_USBFN_ENDPOINTS, 15);
  assert.is(S.MAX_NUM_USBFN_PIPES, 16);
  assert.is(S.MAX_INTERFACE_NAME_LENGTH, 40);
  assert.is(S.MAX_INTERFACE_GUID_LENGTH, 39);
  assert.is(S.MAX_USB_STRING_LENGTH, 255);
});

test.run();
