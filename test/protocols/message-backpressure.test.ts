/**
 * Message channel backpressure: at most maxPending requests are on the bus (the rest wait for a
 * slot), and while the handler is busy the device issues no reads, so the host's next transfer
 * waits (NAK) instead of queueing in memory.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { openMessageChannel } from '../../lib/protocols/message-channel.js';
import { FrameKind } from '../../lib/protocols/message-frame.js';
import { vendorBulkDeclaration } from '../../lib/protocols/interface-declaration.js';
import { closeAll, openEmulated } from './helpers.js';
import { hostReceive, hostSend } from './message-peer.js';
import { waitUntil } from '../wait.js';

const test = suite('message channel: backpressure');
test.after.each(closeAll);

test('requests past maxPending wait for a slot and go out as earlier ones are answered', async () => {
  const s = await openEmulated(vendorBulkDeclaration());
  const ch = openMessageChannel(s.device, { maxPending: 2 });
  const replies = [1, 2, 3, 4].map((n) => ch.request(Buffer.from([n])));
  const first = [await hostReceive(s.host), await hostReceive(s.host)];
  assert.is(ch.pendingRequests, 2);
  const third = hostReceive(s.host);
  let thirdSeen = false;
  void third.then(() => (thirdSeen = true));
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.not.ok(thirdSeen, 'no third request on the bus while two are pending');
  await hostSend(s.host, FrameKind.RESPONSE, first[0].id, 'r');
  const f3 = await third;
  assert.equal([...f3.payload], [3]);
  await hostSend(s.host, FrameKind.RESPONSE, first[1].id, 'r');
  await hostSend(s.host, FrameKind.RESPONSE, f3.id, 'r');
  const f4 = await hostReceive(s.host);
  await hostSend(s.host, FrameKind.RESPONSE, f4.id, 'r');
  assert.equal((await Promise.all(replies)).map(String), ['r', 'r', 'r', 'r']);
  await ch.close();
});

test('while the handler is busy no read is pending: the host\'s transfers wait on the bus', async () => {
  const s = await openEmulated(vendorBulkDeclaration());
  const ch = openMessageChannel(s.device, { concurrency: 1 });
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let handled = 0;
  ch.handle(async (p) => {
    handled++;
    await gate;
    return p;
  });
  // Enough frames to fill every read the pipe had outstanding, plus more that must wait.
  const sends = Array.from({ length: 12 }, (_, i) => hostSend(s.host, FrameKind.REQUEST, i + 1, Buffer.from([i])));
  await waitUntil(() => handled === 1, 'the first request reaching the handler');
  let delivered = 0;
  sends.forEach((p) => void p.then(() => delivered++));
  await new Promise((resolve) => setTimeout(resolve, 30));
  assert.ok(delivered < 12, `the host could not push every frame while the handler was busy (${delivered} went)`);
  release();
  await Promise.all(sends);
  const ids: number[] = [];
  for (let i = 0; i < 12; i++) ids.push((await hostReceive(s.host)).id);
  assert.equal(ids, Array.from({ length: 12 }, (_, i) => i + 1), 'answered in order, none lost');
  await ch.close();
});

test.run();
