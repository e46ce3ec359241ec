/** FunctionFS blobs generated from a function description, against the recipe's known-good bytes. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildFfsBlobs } from '../../lib/driver/functionfs/blobs.js';
import { countDescriptors, decodeFfsEvents, encodeFfsStrings, FFS_IOCTL } from '../../native-defs/functionfs.js';
import { encodeIocb, decodeIoEvents, IOCB_SIZE } from '../../native-defs/linux-aio.js';
import { CodecError } from '../../native-defs/codec-core.js';

const le32 = (v: number) => [v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, v >>> 24];
const le16 = (v: number) => [v & 0xff, v >> 8];
// The bytes of shared/usb-vm/ffs-gadget.c's `descriptors` and `strings`, field by field.
const intf = [9, 4, 0, 0, 2, 0xff, 0, 0, 1];
const ep = (addr: number, mps: number) => [7, 5, addr, 2, ...le16(mps), 0];
const comp = [6, 0x30, 0, 0, 0, 0];
const body = [
  ...le32(3), ...le32(3), ...le32(5),
  ...intf, ...ep(0x81, 64), ...ep(0x02, 64),
  ...intf, ...ep(0x81, 512), ...ep(0x02, 512),
  ...intf, ...ep(0x81, 1024), ...comp, ...ep(0x02, 1024), ...comp,
];
// Flags: the recipe's FS | HS | SS (7), plus FUNCTIONFS_ALL_CTRL_RECIP (64), which usbfn adds so
// device- and other-recipient requests reach the function (the recipe's gadget answers none).
const RECIPE_DESCRIPTORS = [...le32(3), ...le32(12 + body.length), ...le32(7 | 64), ...body];
const iface = [...Buffer.from('ffs-test-iface\0')];
const RECIPE_STRINGS = [...le32(2), ...le32(16 + 2 + iface.length), ...le32(1), ...le32(1), ...le16(0x0409), ...iface];

test('descriptors v2 blob equals ffs-gadget.c byte for byte, but for FUNCTIONFS_ALL_CTRL_RECIP', () => {
  const blobs = buildFfsBlobs({ endpoints: [{ address: 0x81 }, { address: 0x02 }], interfaceString: 'ffs-test-iface' });
  assert.equal([...blobs.descriptors], RECIPE_DESCRIPTORS);
});

test('strings blob equals ffs-gadget.c byte for byte', () => {
  const blobs = buildFfsBlobs({ endpoints: [{ address: 0x81 }, { address: 0x02 }], interfaceString: 'ffs-test-iface' });
  assert.equal([...blobs.strings], RECIPE_STRINGS);
});

test('without an interface string iInterface is 0 and the strings blob is empty', () => {
  const blobs = buildFfsBlobs({});
  assert.is(blobs.descriptors[12 + 12 + 8], 0); // iInterface of the full-speed interface descriptor
  assert.equal([...blobs.strings], [...le32(2), ...le32(16), ...le32(0), ...le32(0)]);
});

test('msOs adds FUNCTIONFS_HAS_MS_OS_DESC, a count and one extended compat ID descriptor', () => {
  const blobs = buildFfsBlobs({ msOs: { compatibleId: 'WINUSB' } });
  const d = blobs.descriptors;
  const view = new DataView(d.buffer, d.byteOffset);
  assert.is(view.getUint32(8, true), 15 | 64); // FS, HS, SS, MS OS; ALL_CTRL_RECIP
  assert.is(view.getUint32(24, true), 1); // os_count after fs, hs, ss counts
  const os = d.subarray(d.length - 35);
  assert.equal([...os.subarray(0, 11)], [0, 35, 0, 0, 0, 0x00, 0x01, 4, 0, 1, 0]);
  assert.equal([...os.subarray(11, 21)], [0, 1, ...Buffer.from('WINUSB'), 0, 0]);
  assert.equal([...os.subarray(21)], new Array(14).fill(0));
  assert.is(view.getUint32(4, true), d.length);
});

test('interrupt endpoints carry bInterval and a SuperSpeed companion with wBytesPerInterval', () => {
  const blobs = buildFfsBlobs({ endpoints: [{ address: 0x83, type: 'interrupt', interval: 4, maxPacketSize: { full: 16, high: 16, super: 16 } }] });
  const d = [...blobs.descriptors];
  const ss = d.slice(d.length - 13);
  assert.equal(ss, [7, 5, 0x83, 3, 16, 0, 4, 6, 0x30, 0, 0, 16, 0]);
});

test('extra descriptors go between the interface descriptor and its first endpoint, at every speed (where cdc_acm looks)', () => {
  const otg = [3, 9, 0]; // USB_DT_OTG, no HNP/SRP: a non-class descriptor FunctionFS accepts
  const blobs = buildFfsBlobs({ endpoints: [{ address: 0x81 }, { address: 0x02 }], extraDescriptors: Uint8Array.from(otg) });
  const view = new DataView(blobs.descriptors.buffer, blobs.descriptors.byteOffset);
  assert.equal([view.getUint32(12, true), view.getUint32(16, true), view.getUint32(20, true)], [4, 4, 6]);
  const i0 = [9, 4, 0, 0, 2, 0xff, 0, 0, 0];
  const sets = [...blobs.descriptors.subarray(24)];
  assert.equal(sets.slice(0, 26), [...i0, ...otg, ...ep(0x81, 64), ...ep(0x02, 64)]);
  assert.equal(sets.slice(26, 52), [...i0, ...otg, ...ep(0x81, 512), ...ep(0x02, 512)]);
  assert.equal(sets.slice(52), [...i0, ...otg, ...ep(0x81, 1024), ...comp, ...ep(0x02, 1024), ...comp]);
});

test('countDescriptors refuses a bLength running past the set', () => {
  assert.is(countDescriptors(Uint8Array.of(9, 4, 0, 0, 0, 0, 0, 0, 0, 2, 5)), 2);
  assert.throws(() => countDescriptors(Uint8Array.of(9, 4, 0)), (e: unknown) => e instanceof CodecError);
  assert.throws(() => countDescriptors(Uint8Array.of(0, 4)), (e: unknown) => e instanceof CodecError);
});

test('strings: every language must carry the same count, and no NUL inside', () => {
  assert.throws(() => encodeFfsStrings([{ langId: 0x409, strings: ['a'] }, { langId: 0x407, strings: [] }]), (e: unknown) => e instanceof CodecError);
  assert.throws(() => encodeFfsStrings([{ langId: 0x409, strings: ['a\0b'] }]), (e: unknown) => e instanceof CodecError);
});

test('ep0 events decode, a SETUP with its packet, an unknown type by number', () => {
  const ev = (type: number, setup = [0, 0, 0, 0, 0, 0, 0, 0]) => [...setup, type, 0, 0, 0];
  const bytes = Uint8Array.from([...ev(0), ...ev(4, [0xc1, 0x05, 0x34, 0x12, 0x02, 0, 0x40, 0]), ...ev(9)]);
  assert.equal(decodeFfsEvents(bytes), [
    { type: 'BIND' },
    { type: 'SETUP', setup: { bmRequestType: 0xc1, bRequest: 5, wValue: 0x1234, wIndex: 2, wLength: 64 } },
    { type: 9 },
  ]);
  assert.throws(() => decodeFfsEvents(new Uint8Array(13)), (e: unknown) => e instanceof CodecError);
});

test('ioctl numbers match linux/usb/functionfs.h', () => {
  assert.is(FFS_IOCTL.CLEAR_HALT, 0x6703);
  assert.is(FFS_IOCTL.ENDPOINT_REVMAP, 0x6781);
  assert.is(FFS_IOCTL.ENDPOINT_DESC, 0x80096782);
});

test('iocb and io_event layouts follow linux/aio_abi.h', () => {
  const iocb = encodeIocb({ data: 7, opcode: 1, fd: 5, buf: 0x1122334455, nbytes: 512, resfd: 9 });
  assert.is(iocb.length, IOCB_SIZE);
  const v = new DataView(iocb.buffer);
  assert.is(v.getUint32(0, true), 7);
  assert.is(v.getUint16(16, true), 1);
  assert.is(v.getUint32(20, true), 5);
  assert.is(Number(v.getBigUint64(24, true)), 0x1122334455);
  assert.is(Number(v.getBigUint64(32, true)), 512);
  assert.is(v.getUint32(56, true), 1);
  assert.is(v.getUint32(60, true), 9);
  const ev = new Uint8Array(32);
  new DataView(ev.buffer).setBigInt64(16, -108n, true);
  ev[0] = 3;
  assert.equal(decodeIoEvents(ev, 1), [{ data: 3, obj: 0, res: -108, res2: 0 }]);
  assert.throws(() => decodeIoEvents(ev, 2), (e: unknown) => e instanceof CodecError);
});

test.run();
