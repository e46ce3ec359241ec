/** Contract: class info, activation, bus events, close. Run once per backend. */
import * as assert from 'uvu/assert';
import { can, type TestBackend } from '../backend-types.js';
import { ErrorCodes } from '../../lib/errors.js';
import { BULK_IN, BULK_OUT, configured, contractSuite, rejectsWith, takeUntil, withStack } from './helpers.js';

export function lifecycleSuite(backend: TestBackend): void {
  const test = contractSuite('contract/lifecycle', backend);

  test.needs('genericusbfn-specifics')('class info lists EP0 first and each pipe with its speed\'s max packet size', () =>
    withStack(backend, async (s) => {
      const info = await s.driver.getClassInfo();
      assert.is(info.interfaceName, 'contract');
      assert.ok(info.interfaceGuid && /^\{[0-9A-F-]{36}\}$/i.test(info.interfaceGuid));
      for (const [speed, mps] of [['full', 64], ['high', 512], ['super', 1024]] as const) {
        const pipes = info[speed].pipes;
        assert.is(pipes[0].type, 'control', `${speed}: PipeArr[0] is EP0`);
        assert.is(pipes[0].pipeId, 0);
        const bulkIn = pipes.find((p) => p.endpointAddress === BULK_IN)!;
        const bulkOut = pipes.find((p) => p.endpointAddress === BULK_OUT)!;
        assert.equal([bulkIn.direction, bulkIn.type, bulkIn.maxPacketSize], ['in', 'bulk', mps]);
        assert.equal([bulkOut.direction, bulkOut.type, bulkOut.maxPacketSize], ['out', 'bulk', mps]);
      }
    }, { interfaceName: 'contract' }));

  test.needs('genericusbfn-specifics')('class info EX carries the same pipes with base interface and count', () =>
    withStack(backend, async (s) => {
      const ex = await s.driver.getClassInfoEx();
      assert.is(ex.high.baseInterfaceNumber, 2);
      assert.ok(ex.high.interfaceCount >= 1);
      assert.ok(ex.high.pipes.some((p) => p.endpointAddress === BULK_IN && p.maxPacketSize === 512));
    }, { interfaceNumber: 2 }));

  test.needs('bus-control')('activate then enumeration delivers attach, reset with speed, configured in order', () =>
    withStack(backend, async (s) => {
      const events = await configured(s, 'super');
      assert.equal(events.map((e) => e.type), ['attach', 'reset', 'configured']);
      assert.equal(events[1], { type: 'reset', speed: 'super' });
      assert.equal(events[2], { type: 'configured', configurationValue: 1 });
    }));

  test.needs('genericusbfn-specifics')('deactivate is refused as not supported, with the Win32 error', () =>
    withStack(backend, async (s) => {
      await s.driver.activate();
      const err = await rejectsWith(s.driver.deactivate(), ErrorCodes.NOT_SUPPORTED);
      assert.is(err.win32Error, 50);
      assert.is(err.win32ErrorName, 'ERROR_NOT_SUPPORTED');
    }));

  test.needs('bus-control')('events that happen while nobody waits are queued, none lost, in bus order', () =>
    withStack(backend, async (s) => {
      await configured(s);
      s.host.suspend();
      s.host.resume();
      s.host.setInterface(0, 1);
      s.host.portType(2);
      s.host.busTearDown();
      s.host.rawEvent(42, Uint8Array.of(9, 8, 7, 6, 5, 4, 3, 2));
      s.host.unconfigure();
      s.host.reset('full');
      s.host.detach();
      const types = [];
      for (let i = 0; i < 9; i++) types.push(await s.driver.nextBusEvent());
      assert.equal(types.map((e) => e.type), ['suspend', 'resume', 'setinterface', 'porttype', 'busteardown', 'unknown', 'unconfigured', 'reset', 'detach']);
      assert.equal(types[2], { type: 'setinterface', interfaceNumber: 0, alternateSetting: 1 });
      assert.equal(types[3], { type: 'porttype', portType: 2 });
      assert.equal(types[5], { type: 'unknown', code: 42, raw: Uint8Array.of(9, 8, 7, 6, 5, 4, 3, 2) });
      assert.equal(types[7], { type: 'reset', speed: 'full' });
    }, undefined, { notificationDepth: 2 }));

  test.needs('emulator-introspection')('several notifications stay pending at the driver', () =>
    withStack(backend, async (s) => {
      await s.driver.activate();
      await new Promise((r) => setTimeout(r, 10));
      assert.is(s.device.pending({ code: 0x0022c036 }), 3);
    }, undefined, { notificationDepth: 3 }));

  test.needs('bus-control')('a wait for the next event can be abandoned without losing the event', () =>
    withStack(backend, async (s) => {
      await s.driver.activate();
      const ac = new AbortController();
      const waiting = s.driver.nextBusEvent({ signal: ac.signal });
      ac.abort();
      await rejectsWith(waiting, ErrorCodes.CANCELED);
      s.host.attach('high');
      assert.equal(await s.driver.nextBusEvent(), { type: 'attach', speed: 'high' });
    }));

  test('close cancels pending requests, then every call says CLOSED', () =>
    withStack(backend, async (s) => {
      await configured(s);
      const info = await s.driver.getClassInfo();
      const out = info.high.pipes.find((p) => p.endpointAddress === BULK_OUT)!;
      const pendingRead = rejectsWith(s.driver.transferOut(out.pipeId, new Uint8Array(512)), ErrorCodes.CANCELED);
      const pendingEvent = rejectsWith(s.driver.nextBusEvent(), ErrorCodes.CLOSED);
      await s.driver.close();
      await pendingRead;
      await pendingEvent;
      if (can(backend, 'emulator-introspection')) assert.is(s.device.pending(), 0, 'nothing left pending at the device');
      await rejectsWith(s.driver.getClassInfo(), ErrorCodes.CLOSED);
      await rejectsWith(s.driver.transferIn(out.pipeId, new Uint8Array(1)), ErrorCodes.CLOSED);
      await rejectsWith(s.driver.nextBusEvent(), ErrorCodes.CLOSED);
      await s.driver.close(); // idempotent
    }));

  test.needs('emulator-introspection')('a notification that claims a short struct is malformed data, and the pump goes on', () =>
    withStack(backend, async (s) => {
      s.device.injectFault({ code: 0x0022c036, errno: 0, bytesReturned: 4 });
      await s.driver.activate();
      s.host.attach('high');
      await rejectsWith(s.driver.nextBusEvent(), ErrorCodes.MALFORMED);
      const next = await takeUntil(s, 'attach');
      assert.is(next.at(-1)!.type, 'attach');
    }, undefined, { notificationDepth: 1 }));

  test.run();
}
