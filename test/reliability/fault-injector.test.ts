/**
 * The public FaultInjector (usbfn/emulator): every kind recovers by itself, a stream survives
 * each with its data exactly once, a seed replays the same choices, and armOnIoctl fires at an
 * exact point of a transfer.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FAULT_KINDS, FaultInjector, createPrng } from '../../lib/driver/emulator/index.js';
import { BulkPipe } from '../../lib/stream/bulk-pipe.js';
import { BULK_IN, BULK_OUT, TRANSFER_IN, forEachBackend, until, withStack } from '../stream/helpers.js';

test('the same seed gives the same random choices', () => {
  const a = createPrng(42);
  const b = createPrng(42);
  const draws = (p: ReturnType<typeof createPrng>) => Array.from({ length: 20 }, () => p.pick(FAULT_KINDS));
  assert.equal(draws(a), draws(b));
  assert.ok(new Set(draws(createPrng(7))).size > 3, 'the choices vary');
});

forEachBackend((backend, it) => {
  it('each fault kind recovers the bus, and a BulkPipe echo through all of them delivers every byte once, in order', () =>
    withStack(backend, async (s) => {
      const faults = new FaultInjector(s.device, { seed: 1, outageMs: [0, 2] });
      const pipe = new BulkPipe({ driver: s.driver, link: s.link, out: BULK_OUT, in: BULK_IN });
      pipe.on('error', (e) => assert.unreachable(`stream error: ${e}`));
      pipe.on('data', (c: Buffer) => pipe.write(c)); // echo
      let received = '';
      for (const kind of FAULT_KINDS) {
        const text = `before ${kind};`;
        await s.host.bulkOut(BULK_OUT, Buffer.from(text));
        await faults.inject(kind);
        assert.is(s.host.state, 'configured', `${kind} recovered`);
        while (!received.endsWith(text)) {
          try {
            received += Buffer.from(await s.host.bulkIn(BULK_IN, 512, { timeoutMs: 2000 })).toString();
          } catch (err) {
            received += Buffer.from((err as { received?: Uint8Array }).received ?? []).toString();
          }
        }
      }
      assert.is(received, FAULT_KINDS.map((k) => `before ${k};`).join(''));
      assert.is(faults.total, FAULT_KINDS.length);
      pipe.destroy();
    }));

  it('armOnIoctl resets the bus the moment the device issues a matching transfer', () =>
    withStack(backend, async (s) => {
      const faults = new FaultInjector(s.device, { seed: 2 });
      faults.armOnIoctl({ code: TRANSFER_IN, pipeId: s.pipeId(BULK_IN) }, 'reset');
      const pipe = new BulkPipe({ driver: s.driver, link: s.link, in: BULK_IN });
      pipe.write(Buffer.from('after the reset'));
      await until(() => faults.counts.reset === 1 && s.host.state === 'configured', 'the armed reset and its recovery');
      assert.is(Buffer.from(await s.host.bulkIn(BULK_IN, 64)).toString(), 'after the reset');
      pipe.destroy();
    }));
});

test.run();
