/** BUS_EVENT_NOTIFICATION: pending semantics, queueing, and the bytes of every event. */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { EmulatedGenericUsbFn } from '../../lib/driver/emulator/index.js';
import { UsbFnBusSpeed, UsbFnEvent, UsbFnPortType } from '../../native-defs/enums.js';
import { CODES, activatedDevice, nextEvent, rejectsCode, rejectsWin32, settled } from './helpers.js';

const test = suite('bus events');

test('a notification pends until an event happens, then holds its 12 bytes', async () => {
  const device = await activatedDevice();
  const out = new Uint8Array(12).fill(0xee);
  const pending = device.ioctl(CODES.NOTIFICATION, null, out);
  assert.not.ok(await settled(pending));
  device.host.attach('super');
  assert.is(await pending, 12);
  assert.equal([...out], [1, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0], 'Attach, BusSpeed Super, rest of the union zeroed');
  await device.close();
});

test('events with no notification pending are queued and delivered FIFO', async () => {
  const device = await activatedDevice();
  device.host.attach('high');
  device.host.reset('full');
  device.host.configure(3);
  assert.is(device.queuedEvents, 3);
  assert.equal(await nextEvent(device), { event: UsbFnEvent.Attach, busSpeed: UsbFnBusSpeed.High, raw: Uint8Array.of(2, 0, 0, 0, 0, 0, 0, 0) });
  assert.is((await nextEvent(device)).busSpeed, UsbFnBusSpeed.Full);
  const configured = await nextEvent(device);
  assert.is(configured.event, UsbFnEvent.Configured);
  assert.is(configured.configurationValue, 3);
  assert.is(device.queuedEvents, 0);
  await device.close();
});

test('several pending notifications complete in the order they were issued', async () => {
  const device = await activatedDevice();
  const outs = [new Uint8Array(12), new Uint8Array(12)];
  const order: number[] = [];
  const all = outs.map((o, i) => device.ioctl(CODES.NOTIFICATION, null, o).then(() => order.push(i)));
  device.host.attach();
  device.host.reset('high');
  await Promise.all(all);
  assert.equal(order, [0, 1]);
  assert.equal([outs[0][0], outs[1][0]], [UsbFnEvent.Attach, UsbFnEvent.Reset]);
  await device.close();
});

test('completion is asynchronous: never before ioctl() has returned', async () => {
  const device = await activatedDevice();
  device.host.attach();
  let done = false;
  const p = device.ioctl(CODES.NOTIFICATION, null, new Uint8Array(12)).then(() => (done = true));
  await Promise.resolve();
  assert.not.ok(done, 'not even on the next microtask');
  await p;
  await device.close();
});

test('every bus change produces its USBFN_NOTIFICATION bytes', async () => {
  const device = await activatedDevice();
  const { host } = device;
  host.attach('high');
  host.reset('high');
  host.configure(1);
  host.setInterface(0, 2);
  host.suspend();
  host.resume();
  host.portType(UsbFnPortType.ChargingDownstream);
  host.busTearDown();
  host.unconfigure();
  host.rawEvent(42, Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8));
  host.detach();
  const got = [];
  for (let i = 0; i < 11; i++) got.push(await nextEvent(device));
  assert.equal(got.map((n) => n.event), [1, 2, 7, 11, 4, 5, 9, 10, 8, 42, 3]);
  assert.equal(got[3].alternateInterface, { interfaceNumber: 0, alternateInterfaceNumber: 2 });
  assert.is(got[6].portType, UsbFnPortType.ChargingDownstream);
  assert.equal([...got[9].raw!], [1, 2, 3, 4, 5, 6, 7, 8], 'an unknown code keeps its union bytes');
  await device.close();
});

test('a notification output shorter than 12 bytes fails with ERROR_INSUFFICIENT_BUFFER', async () => {
  const device = await activatedDevice();
  await rejectsWin32(device.ioctl(CODES.NOTIFICATION, null, new Uint8Array(11)), 122);
  await rejectsWin32(device.ioctl(CODES.NOTIFICATION, null, null), 122);
  await device.close();
});

test('notifications may be issued before ACTIVATE (to catch the first Attach)', async () => {
  const device = new EmulatedGenericUsbFn();
  const first = device.ioctl(CODES.NOTIFICATION, null, new Uint8Array(12));
  await device.ioctl(CODES.ACTIVATE, null, null);
  device.host.attach();
  assert.is(await first, 12);
  await device.close();
});

test('the event queue is bounded: past the limit the oldest events are dropped and counted', async () => {
  const device = await activatedDevice({ eventQueueLimit: 2 });
  device.host.attach();
  device.host.reset('high');
  device.host.configure(1);
  assert.is(device.queuedEvents, 2);
  assert.is(device.droppedEvents, 1);
  assert.is((await nextEvent(device)).event, UsbFnEvent.Reset, 'the newest events survive');
  await device.close();
});

test('enumerate waits for ACTIVATE, then queues Attach, Reset, Configured', async () => {
  const device = new EmulatedGenericUsbFn();
  const enumerated = device.host.enumerate({ speed: 'full', configuration: 2, waitForDevice: false });
  assert.not.ok(await settled(enumerated));
  await device.ioctl(CODES.ACTIVATE, null, null);
  await enumerated;
  assert.is(device.state, 'configured');
  assert.is(device.speed, 'full');
  assert.is(device.configurationValue, 2);
  assert.equal([(await nextEvent(device)).event, (await nextEvent(device)).event, (await nextEvent(device)).event], [1, 2, 7]);
  await device.close();
});

test('enumerate times out when the device never activates', async () => {
  const device = new EmulatedGenericUsbFn();
  await rejectsCode(device.host.enumerate({ timeoutMs: 5 }), 'USBFN_ERR_TIMEOUT');
  await device.close();
});

test('the bus state follows the host: attached, default, configured, suspended, detached', async () => {
  const device = await activatedDevice();
  const seen = [device.state];
  device.host.attach();
  seen.push(device.state);
  device.host.reset('high');
  seen.push(device.state);
  device.host.configure();
  seen.push(device.state);
  device.host.suspend();
  seen.push(device.state);
  device.host.resume();
  seen.push(device.state);
  device.host.detach();
  seen.push(device.state);
  assert.equal(seen, ['detached', 'attached', 'default', 'configured', 'suspended', 'configured', 'detached']);
  assert.is(device.speed, undefined);
  await device.close();
});

test('host bus calls in the wrong state throw coded errors', async () => {
  const device = new EmulatedGenericUsbFn();
  assert.throws(() => device.host.attach(), (e: { code: string }) => e.code === 'USBFN_ERR_INVALID_STATE');
  await device.ioctl(CODES.ACTIVATE, null, null);
  assert.throws(() => device.host.reset('high'), (e: { code: string }) => e.code === 'USBFN_ERR_DISCONNECTED');
  device.host.attach();
  assert.throws(() => device.host.configure(), (e: { code: string }) => e.code === 'USBFN_ERR_INVALID_STATE', 'configure needs a reset first');
  device.host.detach();
  device.host.detach(); // idempotent
  assert.is(device.queuedEvents, 2, 'Attach, Detach: the second detach posted nothing');
  await device.close();
});

test.run();
