/** GET_CLASS_INFO(_EX), GET_INTERFACE_DESCRIPTOR_SET and REGISTER_USB_STRING, byte for byte. */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_INTERFACE_GUID, EmulatedGenericUsbFn } from '../../lib/driver/emulator/index.js';
import {
  decodeClassInformationPacket,
  decodeClassInformationPacketEx,
  decodeInterfaceInfo,
  encodeInterfaceInfoHeader,
  encodeUsbString,
  readInterfaceInfoSize,
} from '../../native-defs/codec.js';
import { UsbFnBusSpeed } from '../../native-defs/enums.js';
import { CODES, activatedDevice, rejectsCode, rejectsWin32 } from './helpers.js';

const test = suite('class info, descriptors, strings');

const TWO_PIPES = { endpoints: [{ address: 0x81 }, { address: 0x02, maxPacketSize: { full: 32 } }, { address: 0x83, type: 'interrupt' as const, maxPacketSize: { full: 8, high: 16, super: 16 }, interval: 4 }] };

test('GET_CLASS_INFO works before ACTIVATE and lists EP0 then the data pipes per speed', async () => {
  const device = new EmulatedGenericUsbFn({ ...TWO_PIPES, interfaceNumber: 2, interfaceName: 'demo' });
  const out = new Uint8Array(800).fill(0xcc);
  assert.is(await device.ioctl(CODES.GET_CLASS_INFO, null, out), 748);
  assert.is(out[748], 0xcc, 'nothing written past the struct');
  const info = decodeClassInformationPacket(out);
  assert.is(info.interfaceName, 'demo');
  assert.is(info.interfaceGuid, DEFAULT_INTERFACE_GUID);
  assert.is(DEFAULT_INTERFACE_GUID.length, 38);
  assert.is(info.highSpeed.interfaceNumber, 2);
  const ids = (s: typeof info.fullSpeed) => s.pipes.map((p) => [p.pipeId, p.epDesc.bEndpointAddress, p.epDesc.bmAttributes, p.epDesc.wMaxPacketSize]);
  assert.equal(ids(info.fullSpeed), [[0, 0, 0, 64], [1, 0x81, 2, 64], [2, 0x02, 2, 32], [3, 0x83, 3, 8]]);
  assert.equal(ids(info.highSpeed), [[0, 0, 0, 64], [1, 0x81, 2, 512], [2, 0x02, 2, 512], [3, 0x83, 3, 16]]);
  assert.equal(ids(info.superSpeed), [[0, 0, 0, 512], [1, 0x81, 2, 1024], [2, 0x02, 2, 1024], [3, 0x83, 3, 16]]);
  assert.is(info.fullSpeed.pipes[3].epDesc.bInterval, 4);
  await device.close();
});

test('GET_CLASS_INFO_EX carries the same pipes with one interface', async () => {
  const device = new EmulatedGenericUsbFn({ interfaceGuid: null });
  const out = new Uint8Array(748);
  assert.is(await device.ioctl(CODES.GET_CLASS_INFO_EX, null, out), 748);
  const info = decodeClassInformationPacketEx(out);
  assert.is(info.interfaceGuid, null, 'HasInterfaceGuid FALSE');
  assert.equal([info.highSpeed.baseInterfaceNumber, info.highSpeed.interfaceCount, info.highSpeed.pipes.length], [0, 1, 3]);
  await device.close();
});

test('class info into less than 748 bytes fails with ERROR_INSUFFICIENT_BUFFER', async () => {
  const device = new EmulatedGenericUsbFn();
  await rejectsWin32(device.ioctl(CODES.GET_CLASS_INFO, null, new Uint8Array(747)), 122);
  await rejectsWin32(device.ioctl(CODES.GET_CLASS_INFO_EX, null, null), 122);
  await device.close();
});

const header = (speed: number, iface = 0) => encodeInterfaceInfoHeader(iface, speed);

test('GET_INTERFACE_DESCRIPTOR_SET returns the interface + endpoint descriptors (payload Size by default)', async () => {
  const device = await activatedDevice({ interfaceClass: [2, 2, 1], extraDescriptors: Uint8Array.of(5, 0x24, 0, 0x10, 1) });
  const out = new Uint8Array(256);
  const n = await device.ioctl(CODES.GET_DESCRIPTOR_SET, header(UsbFnBusSpeed.High), out);
  const info = decodeInterfaceInfo(out, n, 'payload');
  assert.is(n, 10 + 9 + 7 + 7 + 5);
  assert.is(info.size, 9 + 7 + 7 + 5);
  assert.is(info.speed, UsbFnBusSpeed.High);
  assert.equal([...info.descriptorSet], [9, 4, 0, 0, 2, 2, 2, 1, 0, 7, 5, 0x81, 2, 0, 2, 0, 7, 5, 0x01, 2, 0, 2, 0, 5, 0x24, 0, 0x10, 1]);
  await device.close();
});

test('the super-speed set carries SuperSpeed endpoint companions; Size "total" counts the header', async () => {
  const device = await activatedDevice({ interfaceInfoSizeMode: 'total' });
  const out = new Uint8Array(256);
  const n = await device.ioctl(CODES.GET_DESCRIPTOR_SET, header(UsbFnBusSpeed.Super), out);
  const info = decodeInterfaceInfo(out, n, 'total');
  assert.is(info.size, 10 + 9 + 2 * (7 + 6));
  assert.equal([...info.descriptorSet.subarray(9, 22)], [7, 5, 0x81, 2, 0, 4, 0, 6, 0x30, 0, 0, 0, 0]);
  await device.close();
});

test('too small an output: ERROR_INSUFFICIENT_BUFFER with Size written when the header fits', async () => {
  for (const mode of ['payload', 'total'] as const) {
    const device = await activatedDevice({ interfaceInfoSizeMode: mode });
    const small = new Uint8Array(12);
    await rejectsWin32(device.ioctl(CODES.GET_DESCRIPTOR_SET, header(UsbFnBusSpeed.High), small), 122);
    assert.is(readInterfaceInfoSize(small), mode === 'payload' ? 23 : 33);
    const tiny = new Uint8Array(8);
    await rejectsWin32(device.ioctl(CODES.GET_DESCRIPTOR_SET, header(UsbFnBusSpeed.High), tiny), 122);
    assert.equal([...tiny], [0, 0, 0, 0, 0, 0, 0, 0], 'no room for the header: nothing written');
    await device.close();
  }
});

test('descriptor set: wrong interface, low speed or a short header is 87; before ACTIVATE is 22', async () => {
  const fresh = new EmulatedGenericUsbFn();
  await rejectsWin32(fresh.ioctl(CODES.GET_DESCRIPTOR_SET, header(UsbFnBusSpeed.High), new Uint8Array(64)), 22);
  await fresh.close();
  const device = await activatedDevice();
  await rejectsWin32(device.ioctl(CODES.GET_DESCRIPTOR_SET, header(UsbFnBusSpeed.High, 1), new Uint8Array(64)), 87);
  await rejectsWin32(device.ioctl(CODES.GET_DESCRIPTOR_SET, header(UsbFnBusSpeed.Low), new Uint8Array(64)), 87);
  await rejectsWin32(device.ioctl(CODES.GET_DESCRIPTOR_SET, new Uint8Array(8), new Uint8Array(64)), 87);
  await device.close();
});

test('REGISTER_USB_STRING stores the string; the host reads it by index and as a descriptor', async () => {
  const device = await activatedDevice();
  assert.is(await device.ioctl(CODES.REGISTER_STRING, encodeUsbString({ stringIndex: 4, text: 'Gadget é' }), null), 0);
  assert.is(device.host.getString(4), 'Gadget é');
  assert.is(device.host.getString(5), undefined);
  assert.is(device.strings.get(4), 'Gadget é');
  await device.host.enumerate({ waitForDevice: false }); // nobody reads bus events in this test
  const d = await device.host.controlTransfer({ bmRequestType: 0x80, bRequest: 6, wValue: 0x0304, wIndex: 0x409, wLength: 255 });
  assert.equal([...d.subarray(0, 4)], [18, 3, 0x47, 0]);
  assert.is(Buffer.from(d.subarray(2)).toString('utf16le'), 'Gadget é');
  await device.close();
});

test('REGISTER_USB_STRING before ACTIVATE: allowed by default, 22 with registerStringBeforeActivate false', async () => {
  const early = new EmulatedGenericUsbFn();
  assert.is(await early.ioctl(CODES.REGISTER_STRING, encodeUsbString({ stringIndex: 1, text: 'x' }), null), 0);
  await early.close();
  const strict = new EmulatedGenericUsbFn({ registerStringBeforeActivate: false });
  await rejectsWin32(strict.ioctl(CODES.REGISTER_STRING, encodeUsbString({ stringIndex: 1, text: 'x' }), null), 22);
  await strict.close();
});

test('REGISTER_USB_STRING with less than 512 input bytes is 87', async () => {
  const device = await activatedDevice();
  await rejectsWin32(device.ioctl(CODES.REGISTER_STRING, new Uint8Array(100), null), 87);
  await device.close();
});

test('an impossible configuration throws USBFN_ERR_INVALID_ARG', async () => {
  const bad = [{ endpoints: [{ address: 0x80 }] }, { endpoints: [{ address: 1 }, { address: 1 }] }, { interfaceName: 'x'.repeat(41) }, { endpoints: [{ address: 1, maxPacketSize: { high: 0 } }] }];
  for (const options of bad) await rejectsCode((async () => new EmulatedGenericUsbFn(options))(), 'USBFN_ERR_INVALID_ARG');
});

test.run();
