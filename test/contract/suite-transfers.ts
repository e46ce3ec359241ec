/** Contract: bulk transfers, ZLP rules, cancellation by the bus and by signals, stall. */
import * as assert from 'uvu/assert';
import { can, type TestBackend, type BackendStack } from '../backend-types.js';
import { ErrorCodes } from '../../lib/errors.js';
import { BULK_IN, BULK_OUT, bytes, configured, contractSuite, pipeIdOf, rejectsWith, settle, withStack } from './helpers.js';

const MPS = 512; // high speed bulk

async function pipes(s: BackendStack) {
  await configured(s);
  return { inId: await pipeIdOf(s, BULK_IN), outId: await pipeIdOf(s, BULK_OUT) };
}

export function transfersSuite(backend: TestBackend): void {
  const test = contractSuite('contract/transfers', backend);

  test.needs('bus-control', 'genericusbfn-specifics')('transfers before ACTIVATE and before Configured are refused as invalid state', () =>
    withStack(backend, async (s) => {
      const outId = await pipeIdOf(s, BULK_OUT);
      await rejectsWith(s.driver.transferOut(outId, new Uint8Array(512)), ErrorCodes.INVALID_STATE, 'before activate');
      await s.driver.activate();
      s.host.attach('high');
      s.host.reset('high');
      const err = await rejectsWith(s.driver.transferOut(outId, new Uint8Array(512)), ErrorCodes.INVALID_STATE, 'before configured');
      assert.is(err.win32Error, 22);
    }));

  test('a pipe id that does not exist is an invalid argument', () =>
    withStack(backend, async (s) => {
      await configured(s);
      await rejectsWith(s.driver.transferOut(77, new Uint8Array(512)), ErrorCodes.INVALID_ARG);
      await rejectsWith(s.driver.transferIn(-1, new Uint8Array(1)), ErrorCodes.INVALID_ARG);
    }));

  test('a pipe used in the wrong direction is refused', () =>
    withStack(backend, async (s) => {
      const { inId, outId } = await pipes(s);
      await rejectsWith(s.driver.transferOut(inId, new Uint8Array(512)), ErrorCodes.INVALID_ARG);
      await rejectsWith(s.driver.transferIn(outId, new Uint8Array(4)), ErrorCodes.INVALID_ARG);
    }));

  for (const [length, zlp] of [[0, false], [0, true], [MPS - 1, true], [MPS, false], [MPS, true], [MPS + 1, true], [3 * MPS, false], [3 * MPS, true]] as const) {
    const zlpOnWire = length === 0 || (zlp && length % MPS === 0);
    test(`TRANSFER_IN of ${length} bytes ${zlp ? 'with' : 'without'} APPEND_ZERO_PKT: ${zlpOnWire ? 'a ZLP follows' : 'no ZLP'}`, () =>
      withStack(backend, async (s) => {
        const { inId } = await pipes(s);
        const data = bytes(length);
        const sent = s.driver.transferIn(inId, data, { zlp });
        const received = length === 0 ? new Uint8Array(0) : await s.host.bulkIn(BULK_IN, length);
        if (length > 0) assert.equal(received, data);
        if (zlpOnWire && length > 0) assert.equal(await s.host.bulkIn(BULK_IN, MPS), new Uint8Array(0), 'the ZLP');
        if (length === 0) assert.equal(await s.host.bulkIn(BULK_IN, MPS), new Uint8Array(0), 'a 0-byte transfer is one ZLP');
        assert.is(await sent, length);
        // Whatever follows arrives as its own transfer: no stray empty read in between.
        const next = s.driver.transferIn(inId, Uint8Array.of(1, 2, 3));
        assert.equal(await s.host.bulkIn(BULK_IN, MPS), Uint8Array.of(1, 2, 3));
        await next;
      }));
  }

  test('a host read ends on a short packet even if it asked for more', () =>
    withStack(backend, async (s) => {
      const { inId } = await pipes(s);
      const data = bytes(MPS + 100);
      const sent = s.driver.transferIn(inId, data);
      assert.equal(await s.host.bulkIn(BULK_IN, 8 * MPS), data);
      await sent;
    }));

  for (const [length, zlp] of [[MPS - 1, false], [MPS + 1, false], [0, false], [2 * MPS, true]] as const) {
    test(`TRANSFER_OUT completes on ${length === 0 ? 'a ZLP' : zlp ? 'the host\'s ZLP' : 'a short packet'} (${length} bytes)`, () =>
      withStack(backend, async (s) => {
        const { outId } = await pipes(s);
        const buffer = new Uint8Array(8 * MPS);
        const read = s.driver.transferOut(outId, buffer);
        await s.host.bulkOut(BULK_OUT, bytes(length), { zlp });
        assert.is(await read, length);
        assert.equal(buffer.subarray(0, length), bytes(length));
      }));
  }

  test('TRANSFER_OUT completes on a full buffer and leaves the rest for the next request', () =>
    withStack(backend, async (s) => {
      const { outId } = await pipes(s);
      const sending = s.host.bulkOut(BULK_OUT, bytes(3 * MPS + 7));
      const a = new Uint8Array(2 * MPS);
      const b = new Uint8Array(4 * MPS);
      assert.is(await s.driver.transferOut(outId, a), 2 * MPS);
      assert.is(await s.driver.transferOut(outId, b), MPS + 7);
      await sending;
      assert.equal([...a, ...b.subarray(0, MPS + 7)], [...bytes(3 * MPS + 7)]);
    }));

  test('k·mps bytes without a ZLP do not end a longer read: the next bytes join it', () =>
    withStack(backend, async (s) => {
      const { outId } = await pipes(s);
      const buffer = new Uint8Array(8 * MPS);
      let ended = false;
      const read = s.driver.transferOut(outId, buffer).finally(() => (ended = true));
      await s.host.bulkOut(BULK_OUT, bytes(2 * MPS));
      await settle();
      assert.not.ok(ended, 'still waiting for a short packet');
      await s.host.bulkOut(BULK_OUT, Uint8Array.of(0xaa));
      assert.is(await read, 2 * MPS + 1);
    }));

  for (const cause of ['reset', 'detach', 'unconfigure'] as const) {
    test.needs('bus-control', 'emulator-introspection')(`${cause} cancels pending transfers with ERROR_OPERATION_ABORTED`, () =>
      withStack(backend, async (s) => {
        const { inId, outId } = await pipes(s);
        // Handlers attached at once: the two may reject in different turns on the koffi path.
        const read = rejectsWith(s.driver.transferOut(outId, new Uint8Array(MPS)), ErrorCodes.CANCELED);
        const write = rejectsWith(s.driver.transferIn(inId, bytes(100)), ErrorCodes.CANCELED);
        await settle();
        if (cause === 'reset') s.host.reset('high');
        else if (cause === 'detach') s.host.detach();
        else s.host.unconfigure();
        for (const err of await Promise.all([read, write])) assert.is(err.win32Error, 995);
        assert.is(s.device.pending({ pipeId: outId }) + s.device.pending({ pipeId: inId }), 0);
      }));
  }

  test('an AbortSignal cancels one transfer and the device lets go of it', () =>
    withStack(backend, async (s) => {
      const { outId } = await pipes(s);
      const ac = new AbortController();
      const cancelled = s.driver.transferOut(outId, new Uint8Array(MPS), { signal: ac.signal });
      const kept = s.driver.transferOut(outId, new Uint8Array(MPS));
      await settle();
      ac.abort();
      await rejectsWith(cancelled, ErrorCodes.CANCELED);
      if (can(backend, 'emulator-introspection')) assert.is(s.device.pending({ pipeId: outId }), 1);
      await s.host.bulkOut(BULK_OUT, Uint8Array.of(5));
      assert.is(await kept, 1, 'the data went to the request that was still pending');
      await rejectsWith(s.driver.transferOut(outId, new Uint8Array(MPS), { signal: ac.signal }), ErrorCodes.CANCELED, 'already aborted');
    }));

  test('stall: the host sees a halted endpoint and pipe state says so; a transfer waits for the clear or fails STALLED', () =>
    withStack(backend, async (s) => {
      const { inId } = await pipes(s);
      await s.driver.setPipeState(inId, true);
      assert.ok(await s.driver.getPipeState(inId));
      assert.ok(await s.host.isHalted(BULK_IN));
      await rejectsWith(s.host.bulkIn(BULK_IN, MPS), ErrorCodes.STALLED);
      // GenericUSBFn.sys refuses a transfer on a halted pipe; FunctionFS queues it behind the halt
      const queued = can(backend, 'halted-transfer-fails') ? null : s.driver.transferIn(inId, bytes(10));
      if (!queued) await rejectsWith(s.driver.transferIn(inId, bytes(10)), ErrorCodes.STALLED);
      await rejectsWith(s.host.bulkIn(BULK_IN, MPS), ErrorCodes.STALLED, 'nothing moves while halted');
      await s.driver.setPipeState(inId, false);
      assert.not.ok(await s.driver.getPipeState(inId));
      const sent = queued ?? s.driver.transferIn(inId, bytes(10));
      assert.equal(await s.host.bulkIn(BULK_IN, MPS), bytes(10));
      await sent;
    }));

  test('a host CLEAR_FEATURE(ENDPOINT_HALT) clears the stall the device set: data moves, pipe state says so', () =>
    withStack(backend, async (s) => {
      const { outId } = await pipes(s);
      await s.driver.setPipeState(outId, true);
      await rejectsWith(s.host.bulkOut(BULK_OUT, bytes(3)), ErrorCodes.STALLED);
      await s.host.clearHalt(BULK_OUT);
      if (can(backend, 'live-pipe-state')) assert.not.ok(await s.driver.getPipeState(outId));
      const read = s.driver.transferOut(outId, new Uint8Array(MPS));
      await s.host.bulkOut(BULK_OUT, bytes(5));
      assert.is(await read, 5);
      assert.not.ok(await s.driver.getPipeState(outId), 'data moved: the halt is gone');
    }));

  test.needs('overlong-byte-count', 'emulator-introspection')('a byte count larger than the buffer is malformed, never trusted', () =>
    withStack(backend, async (s) => {
      const { outId } = await pipes(s);
      s.device.injectFault({ code: 0x0022c016, errno: 0, bytesReturned: 4096, at: 'completion' });
      const read = rejectsWith(s.driver.transferOut(outId, new Uint8Array(MPS)), ErrorCodes.MALFORMED);
      await s.host.bulkOut(BULK_OUT, bytes(10)).catch(() => undefined);
      await read;
    }));

  test.run();
}
