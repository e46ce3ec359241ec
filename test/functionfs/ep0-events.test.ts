/** FunctionFS ep0 events map to usbfn bus events as ep0-events.ts's table states. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { mapFfsEvents } from '../../lib/driver/functionfs/ep0-events.js';
import { listUdcs, parseUdcSpeed, readUdcSpeed } from '../../lib/driver/functionfs/udc.js';

const ev = (type: number, setup = [0, 0, 0, 0, 0, 0, 0, 0]) => [...setup, type, 0, 0, 0];
const bytes = (...events: number[][]) => Uint8Array.from(events.flat());

test('BIND is attach, ENABLE is a reset carrying the sysfs speed then configured 1', () => {
  assert.equal(mapFfsEvents(bytes(ev(0), ev(2)), () => 'high'), [
    { type: 'attach', speed: 'high' },
    { type: 'reset', speed: 'high' },
    { type: 'configured', configurationValue: 1 },
  ]);
});

test('an unknown speed is reported as 0, which the bus link ignores', () => {
  assert.equal(mapFfsEvents(bytes(ev(2)), () => null)[0], { type: 'reset', speed: 0 });
});

test('DISABLE is unconfigured, UNBIND detach, SUSPEND/RESUME themselves', () => {
  assert.equal(mapFfsEvents(bytes(ev(3), ev(1), ev(5), ev(6)), () => 'full').map((e) => e.type), ['unconfigured', 'detach', 'suspend', 'resume']);
});

test('SETUP carries its packet; an unknown code keeps its 12 raw bytes', () => {
  const [setup, unknown] = mapFfsEvents(bytes(ev(4, [0x21, 0x09, 0, 2, 1, 0, 8, 0]), ev(42)), () => 'high');
  assert.equal(setup, { type: 'setup', setup: { bmRequestType: 0x21, bRequest: 9, wValue: 0x200, wIndex: 1, wLength: 8 } });
  assert.is(unknown!.type, 'unknown');
  assert.is((unknown as { code: number }).code, 42);
  assert.is((unknown as { raw: Uint8Array }).raw.length, 12);
});

test('speed is read from sysfs only when an event needs it', () => {
  let asked = 0;
  mapFfsEvents(bytes(ev(3), ev(4), ev(5)), () => (asked++, 'high'));
  assert.is(asked, 0);
});

test('current_speed texts map to bus speeds', () => {
  assert.is(parseUdcSpeed('high-speed\n'), 'high');
  assert.is(parseUdcSpeed('full-speed'), 'full');
  assert.is(parseUdcSpeed('super-speed-plus'), 'super');
  assert.is(parseUdcSpeed('low-speed'), 'low');
  assert.is(parseUdcSpeed('UNKNOWN'), null);
});

test('readUdcSpeed reads the named UDC, or the only one there is', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'usbfn-udc-'));
  fs.mkdirSync(path.join(dir, 'dummy_udc.0'));
  fs.writeFileSync(path.join(dir, 'dummy_udc.0', 'current_speed'), 'super-speed\n');
  assert.equal(listUdcs(dir), ['dummy_udc.0']);
  assert.is(readUdcSpeed(undefined, dir), 'super');
  assert.is(readUdcSpeed('nope', dir), null);
  assert.is(readUdcSpeed(undefined, path.join(dir, 'missing')), null);
  fs.rmSync(dir, { recursive: true });
});

test.run();
