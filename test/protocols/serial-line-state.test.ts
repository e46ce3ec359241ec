/**
 * The serial function answers the host serial driver's class requests: SET/GET_LINE_CODING,
 * SET_CONTROL_LINE_STATE (DTR/RTS) and SEND_BREAK surface as properties and events; malformed
 * or unknown requests are stalled.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { openSerialFunction } from '../../lib/protocols/serial-function.js';
import { CdcRequest, encodeLineCoding, serialInterfaceDeclaration, type LineCoding } from '../../lib/protocols/cdc-acm.js';
import { classSetup, closeAll, openEmulated } from './helpers.js';
import { rejectsWithCode } from '../wait.js';

const test = suite('serial function: line state');
test.after.each(closeAll);

test('GET_LINE_CODING answers 115200 8N1 before the host sets one', async () => {
  const s = await openEmulated(serialInterfaceDeclaration());
  const port = await openSerialFunction(s.device);
  const reply = await s.host.controlTransfer(classSetup('in', CdcRequest.GET_LINE_CODING, 7));
  assert.equal([...reply], [...encodeLineCoding({ baudRate: 115200, dataBits: 8, parity: 'none', stopBits: 1 })]);
  port.destroy();
});

test('SET_LINE_CODING sets lineCoding, emits linecoding, and GET_LINE_CODING answers from it', async () => {
  const s = await openEmulated(serialInterfaceDeclaration());
  const port = await openSerialFunction(s.device);
  const seen: LineCoding[] = [];
  port.on('linecoding', (lc: LineCoding) => seen.push(lc));
  const wanted: LineCoding = { baudRate: 9600, dataBits: 7, parity: 'even', stopBits: 2 };
  const event = new Promise((resolve) => port.once('linecoding', resolve));
  await s.host.controlTransfer(classSetup('out', CdcRequest.SET_LINE_CODING, 7), encodeLineCoding(wanted));
  await event;
  assert.equal(seen, [wanted]);
  assert.equal(port.lineCoding, wanted);
  const reply = await s.host.controlTransfer(classSetup('in', CdcRequest.GET_LINE_CODING, 7));
  assert.equal([...reply], [...encodeLineCoding(wanted)]);
  port.destroy();
});

test('a malformed line coding (its status stage is already done) is ignored and reported as handlerError', async () => {
  const s = await openEmulated(serialInterfaceDeclaration());
  const port = await openSerialFunction(s.device);
  const bad = encodeLineCoding({ baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1 });
  bad[5] = 9; // no such parity
  const reported = new Promise<unknown>((resolve) => s.device.control.once('handlerError', resolve));
  await s.host.controlTransfer(classSetup('out', CdcRequest.SET_LINE_CODING, 7), bad);
  assert.is(((await reported) as { code?: string }).code, 'USBFN_ERR_MALFORMED');
  assert.is(port.lineCoding.baudRate, 115200);
  port.destroy();
});

test('SET_CONTROL_LINE_STATE sets DTR and RTS and emits controllines', async () => {
  const s = await openEmulated(serialInterfaceDeclaration());
  const port = await openSerialFunction(s.device);
  const seen: unknown[] = [];
  port.on('controllines', (lines) => seen.push(lines));
  await s.host.controlTransfer(classSetup('out', CdcRequest.SET_CONTROL_LINE_STATE, 0, 0x01));
  await s.host.controlTransfer(classSetup('out', CdcRequest.SET_CONTROL_LINE_STATE, 0, 0x03));
  await s.host.controlTransfer(classSetup('out', CdcRequest.SET_CONTROL_LINE_STATE, 0, 0x00));
  assert.equal(seen, [{ dtr: true, rts: false }, { dtr: true, rts: true }, { dtr: false, rts: false }]);
  assert.equal(port.controlLines, { dtr: false, rts: false });
  port.destroy();
});

test('SEND_BREAK emits break with its duration', async () => {
  const s = await openEmulated(serialInterfaceDeclaration());
  const port = await openSerialFunction(s.device);
  const seen: number[] = [];
  port.on('break', (ms: number) => seen.push(ms));
  await s.host.controlTransfer(classSetup('out', CdcRequest.SEND_BREAK, 0, 250));
  await s.host.controlTransfer(classSetup('out', CdcRequest.SEND_BREAK, 0, 0xffff));
  assert.equal(seen, [250, 0xffff]);
  port.destroy();
});

test('a class request the function does not handle is stalled', async () => {
  const s = await openEmulated(serialInterfaceDeclaration());
  const port = await openSerialFunction(s.device);
  await rejectsWithCode(s.host.controlTransfer(classSetup('in', CdcRequest.GET_ENCAPSULATED_RESPONSE, 8)), 'USBFN_ERR_STALLED');
  port.destroy();
});

test('after destroy the requests are no longer answered (stalled)', async () => {
  const s = await openEmulated(serialInterfaceDeclaration());
  const port = await openSerialFunction(s.device);
  port.destroy();
  await new Promise((resolve) => port.once('close', resolve));
  await rejectsWithCode(s.host.controlTransfer(classSetup('in', CdcRequest.GET_LINE_CODING, 7)), 'USBFN_ERR_STALLED');
});

test.run();
