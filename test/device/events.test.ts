/**
 * Bus events reach the user typed, on the EventEmitter and through events(), in bus order, with
 * state and speed following them; unknown codes arrive as 'event' with their raw bytes.
 */
import * as assert from 'uvu/assert';
import { enumerated, openDevice, rejection, settle, suitePerBackend } from './harness.js';
import type { DeviceEvent, UsbFnDevice } from '../../lib/index.js';

/** Records every typed event with its arguments. */
function record(device: UsbFnDevice): Array<[string, ...unknown[]]> {
  const log: Array<[string, ...unknown[]]> = [];
  const names = ['attach', 'reset', 'detach', 'suspend', 'resume', 'configured', 'unconfigured', 'porttype', 'busteardown', 'setinterface', 'event'] as const;
  for (const name of names) device.on(name, (...args: unknown[]) => log.push([name, ...args]));
  return log;
}

/** Waits until the device has emitted `name`. */
const seen = (device: UsbFnDevice, name: 'detach' | 'resume' | 'event' | 'busteardown') =>
  new Promise<void>((resolve) => device.once(name, () => resolve()));

suitePerBackend('device events', (test, backend) => {
  test('enumeration: attach, reset and configured with their values; state and speed follow', async () => {
    const s = await openDevice(backend, { enumerate: false });
    const log = record(s.device);
    const states: string[] = [];
    s.device.on('state', (state, previous) => states.push(`${previous}->${state}`));
    assert.is(s.device.state, 'detached');
    assert.is(s.device.speed, null);
    await enumerated(s.device, s.emu, 'full');
    assert.equal(log, [['attach', 'full'], ['reset', 'full'], ['configured', 1]]);
    assert.equal(states, ['detached->attached', 'attached->default', 'default->configured']);
    assert.is(s.device.state, 'configured');
    assert.is(s.device.speed, 'full');
    assert.ok(s.device.configured);
    await s.close();
  });

  test('suspend, resume, setinterface, porttype, busteardown, unconfigured, detach', async () => {
    const s = await openDevice(backend);
    const log = record(s.device);
    s.host.suspend();
    s.host.resume();
    s.host.setInterface(0, 2);
    s.host.portType(2);
    s.host.busTearDown();
    s.host.unconfigure();
    s.host.detach();
    await seen(s.device, 'detach');
    assert.equal(log, [
      ['suspend'], ['resume'], ['setinterface', 0, 2], ['porttype', 2], ['busteardown'], ['unconfigured'], ['detach'],
    ]);
    assert.is(s.device.state, 'detached');
    assert.is(s.device.speed, null);
    assert.not.ok(s.device.configured);
    await s.close();
  });

  test('suspended while configured: state is suspended, transfers stay allowed, resume restores', async () => {
    const s = await openDevice(backend);
    s.host.suspend();
    await new Promise<void>((resolve) => s.device.once('suspend', () => resolve()));
    assert.is(s.device.state, 'suspended');
    assert.ok(s.device.configured);
    s.host.resume();
    await seen(s.device, 'resume');
    assert.is(s.device.state, 'configured');
    await s.close();
  });

  test('an unknown event code arrives as event(code, raw) and does not disturb state', async () => {
    const s = await openDevice(backend);
    const got = new Promise<[number, Uint8Array]>((resolve) => s.device.once('event', (code, raw) => resolve([code, raw])));
    s.host.rawEvent(42, Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8));
    const [code, raw] = await got;
    assert.is(code, 42);
    assert.equal([...raw], [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.is(s.device.state, 'configured');
    await s.close();
  });

  test('a reset at another speed changes speed and the pipes of the current speed', async () => {
    const s = await openDevice(backend);
    assert.is(s.device.findPipe(0x81)?.maxPacketSize, 512);
    const reset = new Promise<unknown>((resolve) => s.device.once('reset', (speed) => resolve(speed)));
    s.host.reset('super');
    assert.is(await reset, 'super');
    assert.is(s.device.speed, 'super');
    assert.is(s.device.state, 'default');
    assert.is(s.device.findPipe(0x81)?.maxPacketSize, 1024);
    await s.close();
  });

  test('pipes are found by endpoint address or direction; EP0 is not a data pipe', async () => {
    const s = await openDevice(backend, { emulator: { endpoints: [{ address: 0x81 }, { address: 0x02 }, { address: 0x83, type: 'interrupt' }] } });
    assert.equal(s.device.pipes.map((p) => p.endpointAddress), [0x81, 0x02, 0x83]);
    assert.is(s.device.findPipe('in')?.endpointAddress, 0x81);
    assert.is(s.device.findPipe('out')?.endpointAddress, 0x02);
    assert.is(s.device.findPipe(0x83)?.type, 'interrupt');
    assert.is(s.device.findPipe({ direction: 'in', type: 'interrupt' })?.endpointAddress, 0x83);
    assert.is(s.device.findPipe(0x05), undefined);
    assert.is(s.device.findPipe(0x00), undefined);
    await s.close();
  });

  test('a listener that throws does not stop the event loop', async () => {
    const s = await openDevice(backend);
    const uncaught: unknown[] = [];
    const onUncaught = (err: unknown) => uncaught.push(err);
    process.prependListener('uncaughtException', onUncaught);
    const originals = process.listeners('uncaughtException').filter((l) => l !== onUncaught);
    for (const l of originals) process.off('uncaughtException', l);
    try {
      s.device.once('suspend', () => {
        throw new Error('listener bug');
      });
      s.host.suspend();
      s.host.resume();
      await seen(s.device, 'resume');
      await settle();
      assert.is((uncaught[0] as Error)?.message, 'listener bug');
      assert.is(s.device.state, 'configured');
    } finally {
      process.off('uncaughtException', onUncaught);
      for (const l of originals) process.on('uncaughtException', l);
    }
    await s.close();
  });
});

suitePerBackend('device.events()', (test, backend) => {
  test('yields the same typed events in bus order', async () => {
    const s = await openDevice(backend, { enumerate: false });
    const it = s.device.events();
    await enumerated(s.device, s.emu, 'high');
    s.host.setInterface(0, 1);
    s.host.rawEvent(99, Uint8Array.of(9));
    s.host.detach();
    const got: DeviceEvent[] = [];
    for await (const ev of it) {
      got.push(ev);
      if (ev.type === 'detach') break;
    }
    assert.equal(
      got.map((e) => e.type),
      ['attach', 'reset', 'configured', 'setinterface', 'event', 'detach'],
    );
    assert.equal(got[1], { type: 'reset', speed: 'high' });
    assert.equal(got[2], { type: 'configured', configurationValue: 1 });
    assert.equal(got[3], { type: 'setinterface', interfaceNumber: 0, alternateSetting: 1 });
    const raw = got[4] as Extract<DeviceEvent, { type: 'event' }>;
    assert.is(raw.code, 99);
    assert.is(raw.raw[0], 9);
    await s.close();
  });

  test('ends when the device closes, after the events already buffered', async () => {
    const s = await openDevice(backend);
    const it = s.device.events();
    s.host.suspend();
    await new Promise<void>((resolve) => s.device.once('suspend', () => resolve()));
    await s.device.close();
    const types: string[] = [];
    for await (const ev of it) types.push(ev.type);
    assert.equal(types, ['suspend']);
    await s.close();
  });

  test('an AbortSignal ends the iteration with CANCELED', async () => {
    const s = await openDevice(backend);
    const ac = new AbortController();
    const it = s.device.events({ signal: ac.signal });
    const next = it.next();
    ac.abort();
    assert.is((await rejection(next)).code, 'USBFN_ERR_CANCELED');
    await s.close();
  });

  test('buffering is bounded: past the limit the iteration fails with OVERFLOW after what it holds', async () => {
    const s = await openDevice(backend);
    const it = s.device.events({ limit: 2 });
    s.host.suspend();
    s.host.resume();
    s.host.suspend();
    let suspends = 0;
    await new Promise<void>((resolve) => s.device.on('suspend', () => ++suspends === 2 && resolve()));
    assert.is((await it.next()).value?.type, 'suspend');
    assert.is((await it.next()).value?.type, 'resume');
    assert.is((await rejection(it.next())).code, 'USBFN_ERR_OVERFLOW');
    await s.close();
  });

  test('break releases the iterator; the device iterates with the defaults too', async () => {
    const s = await openDevice(backend);
    s.host.suspend();
    for await (const ev of s.device) {
      assert.is(ev.type, 'suspend');
      break;
    }
    s.host.resume();
    await seen(s.device, 'resume');
    await s.close();
  });

  test('destroy(err) makes iterators throw err', async () => {
    const s = await openDevice(backend);
    const it = s.device.events();
    const next = it.next();
    const boom = new Error('boom');
    await s.device.destroy(boom);
    assert.is(await rejection(next), boom);
    await s.close();
  });
});
