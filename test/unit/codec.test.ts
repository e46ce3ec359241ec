import { test } from 'uvu';
import * as assert from 'uvu/assert';
import koffi from 'koffi';
import * as S from '../../native-defs/structs.js';
import * as C from '../../native-defs/codec.js';
import { UsbFnEvent } from '../../native-defs/enums.js';

type KType = Parameters<typeof koffi.sizeof>[0];
const kdecode = (bytes: Uint8Array, type: unknown, offset = 0) => koffi.decode(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), offset, type as KType);
const kencode = (type: unknown, value: unknown) => {
  const out = Buffer.alloc(koffi.sizeof(type as KType));
  koffi.encode(out, type as KType, value);
  return new Uint8Array(out);
};

const ep = (addr: number, mps: number, attrs = 2): C.EndpointDescriptor => ({
  bLength: 7, bDescriptorType: 5, bEndpointAddress: addr, bmAttributes: attrs, wMaxPacketSize: mps, bInterval: 0,
});
const iface = (n: number, mps: number): C.ClassInterface => ({
  interfaceNumber: n,
  pipes: [{ epDesc: ep(0x00, 64, 0), pipeId: 0 }, { epDesc: ep(0x81, mps), pipeId: 1 }, { epDesc: ep(0x01, mps), pipeId: 2 }],
});
const isCodecError = (e: unknown) => e instanceof C.CodecError;
const GUID = '{3A0C1F44-4E0B-4C0A-9D38-7E3F2B5C1A00}';

test('setup packet round-trips and matches koffi byte for byte', () => {
  const p: C.SetupPacket = { bmRequestType: 0xa1, bRequest: 0x21, wValue: 0x1234, wIndex: 0x0002, wLength: 7 };
  const bytes = C.encodeSetupPacket(p);
  assert.equal([...bytes], [0xa1, 0x21, 0x34, 0x12, 0x02, 0x00, 0x07, 0x00]);
  assert.equal(C.decodeSetupPacket(bytes), p);
  assert.equal(kdecode(bytes, S.USB_DEFAULT_PIPE_SETUP_PACKET), p);
  assert.equal(kencode(S.USB_DEFAULT_PIPE_SETUP_PACKET, p), bytes);
});

test('endpoint descriptor keeps wMaxPacketSize unaligned at offset 4', () => {
  const d = ep(0x82, 0x0200);
  const bytes = new Uint8Array(7);
  C.encodeEndpointDescriptor(d, bytes);
  assert.equal([...bytes], [7, 5, 0x82, 2, 0x00, 0x02, 0]);
  assert.equal(C.decodeEndpointDescriptor(bytes), d);
  assert.equal(kdecode(bytes, S.USB_ENDPOINT_DESCRIPTOR), d);
});

test('class information packet round-trips and agrees with koffi', () => {
  const p: C.ClassInformationPacket = {
    fullSpeed: iface(0, 64), highSpeed: iface(0, 512), superSpeed: iface(0, 1024), interfaceName: 'usbfn-test', interfaceGuid: GUID,
  };
  const bytes = C.encodeClassInformationPacket(p);
  assert.is(bytes.length, 748);
  assert.equal(C.decodeClassInformationPacket(bytes), p);
  const k = kdecode(bytes, S.USBFN_CLASS_INFORMATION_PACKET) as any;
  assert.is(k.HighSpeedClassInterface.PipeCount, 3);
  assert.is(k.HighSpeedClassInterface.PipeArr[1].EpDesc.wMaxPacketSize, 512);
  assert.is(k.SuperSpeedClassInterface.PipeArr[2].PipeId, 2);
  assert.is(String.fromCharCode(...k.InterfaceGuid.slice(0, 38)), GUID);
  assert.is(k.HasInterfaceGuid, 1);
});

test('class information packet without a GUID decodes interfaceGuid as null', () => {
  const p: C.ClassInformationPacket = { fullSpeed: iface(1, 64), highSpeed: iface(1, 512), superSpeed: iface(1, 1024), interfaceName: 'x', interfaceGuid: null };
  assert.equal(C.decodeClassInformationPacket(C.encodeClassInformationPacket(p)), p);
});

test('class information packet EX round-trips with its own offsets', () => {
  const ex = (n: number, mps: number): C.ClassInterfaceEx => ({ baseInterfaceNumber: n, interfaceCount: 2, pipes: iface(n, mps).pipes });
  const p: C.ClassInformationPacketEx = { fullSpeed: ex(2, 64), highSpeed: ex(2, 512), superSpeed: ex(2, 1024), interfaceName: 'multi', interfaceGuid: GUID };
  const bytes = C.encodeClassInformationPacketEx(p);
  assert.equal(C.decodeClassInformationPacketEx(bytes), p);
  const k = kdecode(bytes, S.USBFN_CLASS_INFORMATION_PACKET_EX) as any;
  assert.is(k.SuperSpeedClassInterfaceEx.PipeCount, 3);
  assert.is(k.HighSpeedClassInterfaceEx.InterfaceCount, 2);
  assert.is(k.HasInterfaceGuid, 1);
});

test('a PipeCount above 16 from the driver is rejected, not read past the array', () => {
  const bytes = C.encodeClassInformationPacket({ fullSpeed: iface(0, 64), highSpeed: iface(0, 512), superSpeed: iface(0, 1024), interfaceName: '', interfaceGuid: null });
  bytes[S.LAYOUT.CLASS_INFO_HIGH_OFFSET + 1] = 17;
  assert.throws(() => C.decodeClassInformationPacket(bytes), (e: unknown) => e instanceof C.CodecError && e.field === 'PipeCount');
});

test('truncated structs are rejected by every decoder', () => {
  assert.throws(() => C.decodeClassInformationPacket(new Uint8Array(747)), isCodecError);
  assert.throws(() => C.decodeNotification(new Uint8Array(11)), isCodecError);
  assert.throws(() => C.decodeSetupPacket(new Uint8Array(7)), isCodecError);
  assert.throws(() => C.decodeUsbString(new Uint8Array(511)), isCodecError);
});

test('interface name longer than 40 WCHARs is refused by the encoder', () => {
  const p = { fullSpeed: iface(0, 64), highSpeed: iface(0, 512), superSpeed: iface(0, 1024), interfaceName: 'x'.repeat(41), interfaceGuid: null };
  assert.throws(() => C.encodeClassInformationPacket(p), /InterfaceName/);
});

const NOTIFICATIONS: C.Notification[] = [
  { event: UsbFnEvent.Attach, busSpeed: 2 },
  { event: UsbFnEvent.Reset, busSpeed: 3 },
  { event: UsbFnEvent.Detach },
  { event: UsbFnEvent.Suspend },
  { event: UsbFnEvent.Resume },
  { event: UsbFnEvent.SetupPacket, setupPacket: { bmRequestType: 0x21, bRequest: 0x20, wValue: 0, wIndex: 1, wLength: 7 } },
  { event: UsbFnEvent.Configured, configurationValue: 1 },
  { event: UsbFnEvent.UnConfigured },
  { event: UsbFnEvent.PortType, portType: 4 },
  { event: UsbFnEvent.BusTearDown },
  { event: UsbFnEvent.SetInterface, alternateInterface: { interfaceNumber: 1, alternateInterfaceNumber: 2 } },
];

test('every notification round-trips and its union member sits at offset 4', () => {
  for (const n of NOTIFICATIONS) {
    const bytes = C.encodeNotification(n);
    const { raw, ...decoded } = C.decodeNotification(bytes);
    assert.equal(decoded, n, `event ${n.event}`);
    assert.is(raw!.length, 8);
    assert.is((kdecode(bytes, S.USBFN_NOTIFICATION) as any).Event, n.event);
  }
  const setup = C.encodeNotification(NOTIFICATIONS[5]);
  assert.equal(kdecode(setup, S.USB_DEFAULT_PIPE_SETUP_PACKET, 4), NOTIFICATIONS[5].setupPacket);
  const alt = C.encodeNotification(NOTIFICATIONS[10]);
  assert.equal(kdecode(alt, S.ALTERNATE_INTERFACE, 4), { InterfaceNumber: 1, AlternateInterfaceNumber: 2 });
});

test('an unknown event code keeps its raw union bytes', () => {
  const raw = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8);
  const decoded = C.decodeNotification(C.encodeNotification({ event: 42, raw }));
  assert.is(decoded.event, 42);
  assert.equal([...decoded.raw!], [...raw]);
});

test('interface info: header encodes speed at 4 and Size at 8; both Size readings decode', () => {
  const set = Uint8Array.of(9, 4, 0, 0, 1, 0xff, 0, 0, 0, 7, 5, 0x81, 2, 0, 2, 0);
  for (const mode of ['payload', 'total'] as const) {
    const bytes = C.encodeInterfaceInfo({ interfaceNumber: 3, speed: 2, descriptorSet: set }, mode);
    const k = kdecode(bytes, S.USBFN_INTERFACE_INFO) as any;
    assert.is(k.Speed, 2);
    assert.is(k.Size, mode === 'payload' ? set.length : set.length + 10);
    const info = C.decodeInterfaceInfo(bytes, bytes.length, mode);
    assert.equal([...info.descriptorSet], [...set]);
    assert.is(info.interfaceNumber, 3);
  }
  const header = C.encodeInterfaceInfoHeader(1, 3);
  assert.equal([...header], [1, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0]);
});

test('interface info whose Size claims more than the returned bytes is rejected', () => {
  const bytes = C.encodeInterfaceInfo({ interfaceNumber: 0, speed: 2, descriptorSet: new Uint8Array(20) }, 'payload');
  assert.throws(() => C.decodeInterfaceInfo(bytes, 25, 'payload'), (e: unknown) => e instanceof C.CodecError && e.field === 'Size');
  assert.throws(() => C.decodeInterfaceInfo(bytes, 9, 'payload'), isCodecError);
});

test('USB string: index at 0, UTF-16LE text at 2, NUL-padded to 512 bytes', () => {
  const bytes = C.encodeUsbString({ stringIndex: 4, text: 'Grüße ✓' });
  assert.is(bytes.length, 512);
  assert.is(bytes[0], 4);
  assert.is(Buffer.from(bytes.subarray(2, 16)).toString('utf16le'), 'Grüße ✓');
  assert.equal(C.decodeUsbString(bytes), { stringIndex: 4, text: 'Grüße ✓' });
  const k = kdecode(bytes, S.USBFN_USB_STRING) as any;
  assert.is(k.StringIndex, 4);
  assert.is(k.UsbString[0], 'G'.charCodeAt(0));
  assert.throws(() => C.encodeUsbString({ stringIndex: 1, text: 'x'.repeat(256) }), isCodecError);
  assert.throws(() => C.encodeUsbString({ stringIndex: 256, text: '' }), isCodecError);
});

test('a WCHAR array filled to its last unit decodes without a terminator', () => {
  const bytes = C.encodeUsbString({ stringIndex: 1, text: 'y'.repeat(255) });
  assert.is(C.decodeUsbString(bytes).text.length, 255);
});

test('pipe ids are little-endian u32', () => {
  assert.equal([...C.encodePipeId(0x01020304)], [4, 3, 2, 1]);
  assert.is(C.decodePipeId(Uint8Array.of(4, 3, 2, 1)), 0x01020304);
});

test.run();
