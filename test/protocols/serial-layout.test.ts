/**
 * The serial function's descriptor layouts, byte for byte: what FunctionFS accepts (no CDC 0x24
 * descriptors; an OTG descriptor so cdc_acm's single-interface path has extra bytes to parse) and
 * what the Windows registry gets (CDC header + ACM functional descriptors), and the CDC codecs.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  decodeControlLines, decodeLineCoding, encodeLineCoding, encodeSerialState, serialInterfaceDeclaration,
} from '../../lib/protocols/cdc-acm.js';
import { descriptorSet, validateDeclaration, vendorBulkDeclaration } from '../../lib/protocols/interface-declaration.js';

/** Splits a descriptor set into [bLength, bDescriptorType] pairs. */
function descriptorTypes(set: Uint8Array): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < set.length; i += set[i]) out.push([set[i], set[i + 1]]);
  return out;
}

test('functionfs layout: interface 02/02/01, an OTG descriptor, three endpoints, and no 0x24 descriptor', () => {
  const set = descriptorSet(serialInterfaceDeclaration({ layout: 'functionfs' }), 'high');
  assert.equal([...set.subarray(0, 9)], [9, 4, 0, 0, 3, 2, 2, 1, 0]);
  assert.equal(descriptorTypes(set), [[9, 4], [3, 9], [7, 5], [7, 5], [7, 5]]);
  assert.ok(descriptorTypes(set).every(([, type]) => type !== 0x24));
});

test('genericusbfn layout: CDC header 1.10 and ACM (line coding, break) descriptors, no union', () => {
  const set = descriptorSet(serialInterfaceDeclaration(), 'full');
  assert.equal([...set.subarray(9, 18)], [5, 0x24, 0x00, 0x10, 0x01, 4, 0x24, 0x02, 0x06]);
  assert.equal(descriptorTypes(set).map(([, t]) => t), [4, 0x24, 0x24, 5, 5, 5]);
  // endpoints at full speed: interrupt IN 16 bytes every 4 frames, bulk 64
  assert.equal([...set.subarray(18)], [7, 5, 0x83, 3, 16, 0, 4, 7, 5, 0x81, 2, 64, 0, 0, 7, 5, 0x02, 2, 64, 0, 0]);
});

test('line coding round-trips; SERIAL_STATE is 10 bytes with the bitmap in D0..D6', () => {
  for (const lc of [{ baudRate: 115200, dataBits: 8, parity: 'none', stopBits: 1 }, { baudRate: 300, dataBits: 5, parity: 'space', stopBits: 1.5 }] as const) {
    assert.equal(decodeLineCoding(encodeLineCoding(lc)), lc);
  }
  assert.throws(() => decodeLineCoding(Buffer.alloc(6)), (e: { code?: string }) => e.code === 'USBFN_ERR_MALFORMED');
  assert.equal(decodeControlLines(2), { dtr: false, rts: true });
  assert.equal([...encodeSerialState({ dcd: true, break: true, overrun: true }, 3)], [0xa1, 0x20, 0, 0, 3, 0, 2, 0, 0b1000101, 0]);
});

test('descriptions are validated: a bad GUID, name, duplicate endpoint or bLength is USBFN_ERR_INVALID_ARG', () => {
  const base = vendorBulkDeclaration();
  const bad = [
    { ...base, interfaceGuid: '8A5D1D72' },
    { ...base, name: 'has space' },
    { ...base, endpoints: [base.endpoints[0], base.endpoints[0]] },
    { ...base, classDescriptors: [Uint8Array.of(5, 0x24, 0)] },
    { ...base, endpoints: [{ ...base.endpoints[0], address: 0x80 }] },
  ];
  for (const d of bad) assert.throws(() => validateDeclaration(d), (e: { code?: string }) => e.code === 'USBFN_ERR_INVALID_ARG');
});

test.run();
