/**
 * Contract: which class and vendor requests reach the function, and what their wIndex says.
 * Linux's FunctionFS (f_fs.c, ffs_func_setup) forwards interface and endpoint requests only when
 * they name the function's own, with wIndex rewritten into the function's numbering (its low
 * byte), and, with FUNCTIONFS_ALL_CTRL_RECIP (usbfn sets it), device and "other" requests as
 * sent; the emulated GenericUSBFn.sys forwards the packet as sent. Both name the interface by
 * the number the class info reports and an endpoint by its declared address.
 */
import * as assert from 'uvu/assert';
import type { BackendStack, TestBackend } from '../backend-types.js';
import type { SetupPacket } from '../../native-defs/codec.js';
import { ErrorCodes } from '../../lib/errors.js';
import { BULK_IN, BULK_OUT, configured, contractSuite, rejectsWith, withStack } from './helpers.js';

/** Class, device-to-host, 2-byte data stage; the recipient is set per test. */
const CLASS_IN = { bmRequestType: 0xa0, bRequest: 0x05, wValue: 0x1234, wIndex: 0, wLength: 2 };
const recipient = { device: 0, interface: 1, endpoint: 2, other: 3 } as const;
const to = (r: keyof typeof recipient, wIndex: number, type = 0xa0): SetupPacket => ({ ...CLASS_IN, bmRequestType: type | recipient[r], wIndex });

/** Sends `setup`, returns the packet the function received, then stalls it (the host sees STALL). */
async function received(s: BackendStack, setup: SetupPacket): Promise<SetupPacket> {
  const host = rejectsWith(s.host.controlTransfer(setup), ErrorCodes.STALLED);
  const ev = await s.driver.nextBusEvent({ signal: AbortSignal.timeout(5000) });
  assert.is(ev.type, 'setup', `a setup event for ${JSON.stringify(setup)}`);
  await s.driver.setPipeState(0, true);
  await host;
  return (ev as { setup: SetupPacket }).setup;
}

/** `setup` is stalled without the function seeing it: the next request is the next event. */
async function refusedUnseen(s: BackendStack, setup: SetupPacket): Promise<void> {
  await rejectsWith(s.host.controlTransfer(setup), ErrorCodes.STALLED, `${JSON.stringify(setup)} stalled`);
  const marker = { ...to('interface', 0), bRequest: 0x77 };
  assert.is((await received(s, marker)).bRequest, 0x77, `${JSON.stringify(setup)} never reached the function`);
}

export function recipientsSuite(backend: TestBackend): void {
  const test = contractSuite('contract/recipients', backend);

  test('a class request to the function\'s interface arrives naming that interface', () =>
    withStack(backend, async (s) => {
      await configured(s);
      const got = await received(s, to('interface', 0));
      assert.equal(got, to('interface', 0));
    }));

  test('an endpoint-recipient request arrives naming the endpoint by its declared address', () =>
    withStack(backend, async (s) => {
      await configured(s);
      assert.is((await received(s, to('endpoint', BULK_IN))).wIndex, BULK_IN);
      assert.is((await received(s, to('endpoint', BULK_OUT, 0xc0))).wIndex, BULK_OUT);
    }));

  // Vendor requests: a Linux host (usbfs) refuses to send a class request to an interface or
  // endpoint the device lacks, so only vendor ones reach the far end to be refused there.
  test('requests to an interface or endpoint the function lacks are stalled unseen', () =>
    withStack(backend, async (s) => {
      await configured(s);
      await refusedUnseen(s, to('interface', 1, 0xc0));
      await refusedUnseen(s, to('endpoint', 0x85, 0xc0));
      await refusedUnseen(s, to('endpoint', 0, 0xc0));
    }));

  test('requests to the device and to "other" arrive as sent, wIndex whole', () =>
    withStack(backend, async (s) => {
      await configured(s);
      assert.equal(await received(s, to('device', 0x0102, 0xc0)), to('device', 0x0102, 0xc0));
      assert.equal(await received(s, to('device', 0x0300)), to('device', 0x0300));
      assert.equal(await received(s, to('other', 0x0201, 0xc0)), to('other', 0x0201, 0xc0));
    }));

  test.needs('setup-as-sent')('an interface request\'s wIndex arrives whole', () =>
    withStack(backend, async (s) => {
      await configured(s);
      assert.is((await received(s, to('interface', 0x0300))).wIndex, 0x0300);
    }));

  test.lacks('setup-as-sent')('an interface request\'s wIndex keeps its low byte only', () =>
    withStack(backend, async (s) => {
      await configured(s);
      assert.is((await received(s, to('interface', 0x0300))).wIndex, 0);
    }));

  test.run();
}
