/**
 * Message channel requests: each is one transfer with its own id, the response with that id
 * settles it (in any order), an error response rejects USBFN_ERR_REMOTE, and the device answers
 * the host's requests through its handler.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { openMessageChannel } from '../../lib/protocols/message-channel.js';
import { FrameKind } from '../../lib/protocols/message-frame.js';
import { vendorBulkDeclaration } from '../../lib/protocols/interface-declaration.js';
import { closeAll, openEmulated } from './helpers.js';
import { hostAnswer, hostReceive, hostSend } from './message-peer.js';
import { rejectsWithCode, waitUntil } from '../wait.js';

const test = suite('message channel: requests');
test.after.each(closeAll);

test('requests carry distinct ids and each resolves with the response bearing its id', async () => {
  const s = await openEmulated(vendorBulkDeclaration());
  const ch = openMessageChannel(s.device);
  const replies = Promise.all(['a', 'bb', 'ccc'].map((p) => ch.request(Buffer.from(p))));
  const ids = await hostAnswer(s.host, 3, (p) => Buffer.concat([p, Buffer.from('!')]));
  assert.is(new Set(ids).size, 3);
  assert.equal((await replies).map((b) => b.toString()), ['a!', 'bb!', 'ccc!']);
  await ch.close();
});

test('responses out of order still reach their own request', async () => {
  const s = await openEmulated(vendorBulkDeclaration());
  const ch = openMessageChannel(s.device);
  const first = ch.request(Buffer.from('first'));
  const second = ch.request(Buffer.from('second'));
  const f1 = await hostReceive(s.host);
  const f2 = await hostReceive(s.host);
  await hostSend(s.host, FrameKind.RESPONSE, f2.id, 'to-second');
  await hostSend(s.host, FrameKind.RESPONSE, f1.id, 'to-first');
  assert.is((await first).toString(), 'to-first');
  assert.is((await second).toString(), 'to-second');
  await ch.close();
});

test('an error response rejects USBFN_ERR_REMOTE with the far end\'s text', async () => {
  const s = await openEmulated(vendorBulkDeclaration());
  const ch = openMessageChannel(s.device);
  const req = ch.request(Buffer.from('x'));
  const f = await hostReceive(s.host);
  await hostSend(s.host, FrameKind.ERROR, f.id, 'no such register');
  const err = await rejectsWithCode(req, 'USBFN_ERR_REMOTE');
  assert.match(err.message, /no such register/);
  await ch.close();
});

test('the device answers host requests through handle(); a throwing handler sends an error response', async () => {
  const s = await openEmulated(vendorBulkDeclaration());
  const ch = openMessageChannel(s.device);
  ch.handle(async (payload) => {
    if (payload.toString() === 'boom') throw new Error('bad command');
    return Buffer.from(payload.toString().toUpperCase());
  });
  await hostSend(s.host, FrameKind.REQUEST, 7, 'hello');
  const ok = await hostReceive(s.host);
  assert.equal([ok.kind, ok.id, ok.payload.toString()], [FrameKind.RESPONSE, 7, 'HELLO']);
  await hostSend(s.host, FrameKind.REQUEST, 8, 'boom');
  const bad = await hostReceive(s.host);
  assert.equal([bad.kind, bad.id, bad.payload.toString()], [FrameKind.ERROR, 8, 'bad command']);
  await ch.close();
});

test('one-way messages both ways; a malformed frame is dropped and reported', async () => {
  const s = await openEmulated(vendorBulkDeclaration());
  const ch = openMessageChannel(s.device);
  const got = new Promise<Buffer>((resolve) => ch.once('message', resolve));
  const malformed = new Promise<Error>((resolve) => ch.once('malformed', resolve));
  await s.host.bulkOut(0x01, Buffer.from([1, 2, 3]));
  await hostSend(s.host, FrameKind.MESSAGE, 0, 'note');
  assert.is((await got).toString(), 'note');
  assert.is(((await malformed) as { code?: string }).code, 'USBFN_ERR_MALFORMED');
  await ch.send(Buffer.from('reply'));
  const f = await hostReceive(s.host);
  assert.equal([f.kind, f.payload.toString()], [FrameKind.MESSAGE, 'reply']);
  await ch.close();
});

test('a payload larger than maxMessageSize is refused with USBFN_ERR_INVALID_ARG; a message of exactly the limit goes as one transfer', async () => {
  const s = await openEmulated(vendorBulkDeclaration());
  const ch = openMessageChannel(s.device, { maxMessageSize: 1016 });
  await rejectsWithCode(ch.request(Buffer.alloc(1017)), 'USBFN_ERR_INVALID_ARG');
  ch.handle((p) => p);
  await hostSend(s.host, FrameKind.REQUEST, 1, Buffer.alloc(1016, 5));
  const f = await hostReceive(s.host);
  assert.is(f.payload.length, 1016);
  await ch.close();
});

test('a host transfer longer than maxMessageSize is dropped whole (reported), never delivered truncated', async () => {
  const s = await openEmulated(vendorBulkDeclaration());
  const ch = openMessageChannel(s.device, { maxMessageSize: 1000 });
  const messages: string[] = [];
  const malformed: Array<{ code?: string }> = [];
  ch.on('message', (p: Buffer) => messages.push(p.toString()));
  ch.on('malformed', (e) => malformed.push(e));
  await hostSend(s.host, FrameKind.MESSAGE, 0, Buffer.alloc(5000, 0x41)); // 5 KiB: several reads
  await hostSend(s.host, FrameKind.MESSAGE, 0, 'next');
  await hostSend(s.host, FrameKind.MESSAGE, 0, Buffer.alloc(1016, 0x42)); // exactly the read size, then a ZLP
  await hostSend(s.host, FrameKind.MESSAGE, 0, 'last');
  await waitUntil(() => messages.length === 2, 'the two valid messages');
  assert.equal(messages, ['next', 'last']);
  assert.equal(malformed.map((e) => e.code), ['USBFN_ERR_MALFORMED', 'USBFN_ERR_MALFORMED']);
  await ch.close();
});

test.run();
