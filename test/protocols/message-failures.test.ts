/**
 * Message channel failure paths: a request times out (USBFN_ERR_TIMEOUT) or is aborted
 * (USBFN_ERR_CANCELED) on its own; a late response is dropped; detach rejects every pending and
 * queued request with USBFN_ERR_DISCONNECTED and close() with USBFN_ERR_CLOSED; nothing hangs.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { openMessageChannel } from '../../lib/protocols/message-channel.js';
import { FrameKind } from '../../lib/protocols/message-frame.js';
import { vendorBulkDeclaration } from '../../lib/protocols/interface-declaration.js';
import { closeAll, openEmulated } from './helpers.js';
import { hostReceive, hostSend } from './message-peer.js';
import { rejectsWithCode } from '../wait.js';

const test = suite('message channel: failures');
test.after.each(closeAll);

test('a request with no response rejects USBFN_ERR_TIMEOUT; its late response is dropped and the next request works', async () => {
  const s = await openEmulated(vendorBulkDeclaration());
  const ch = openMessageChannel(s.device);
  const slow = ch.request(Buffer.from('slow'), { timeoutMs: 50 });
  // The expectation is attached before anything is awaited: on a loaded machine the 50 ms can run
  // out before the host has read the frame, and the rejection must not be unhandled meanwhile.
  // Which comes first does not matter: the frame is written either way, and the late response
  // below is sent only once the timeout has rejected the request.
  const timedOut = rejectsWithCode(slow, 'USBFN_ERR_TIMEOUT');
  const f = await hostReceive(s.host);
  await timedOut;
  assert.is(ch.pendingRequests, 0);
  await hostSend(s.host, FrameKind.RESPONSE, f.id, 'too late');
  const next = ch.request(Buffer.from('next'));
  const f2 = await hostReceive(s.host);
  assert.is.not(f2.id, f.id);
  await hostSend(s.host, FrameKind.RESPONSE, f2.id, 'ok');
  assert.is((await next).toString(), 'ok');
  await ch.close();
});

test('aborting one request rejects only it with USBFN_ERR_CANCELED', async () => {
  const s = await openEmulated(vendorBulkDeclaration());
  const ch = openMessageChannel(s.device);
  const ac = new AbortController();
  const aborted = ch.request(Buffer.from('a'), { signal: ac.signal });
  const kept = ch.request(Buffer.from('b'));
  const fa = await hostReceive(s.host);
  const fb = await hostReceive(s.host);
  ac.abort();
  await rejectsWithCode(aborted, 'USBFN_ERR_CANCELED');
  await hostSend(s.host, FrameKind.RESPONSE, fa.id, 'ignored');
  await hostSend(s.host, FrameKind.RESPONSE, fb.id, 'kept');
  assert.is((await kept).toString(), 'kept');
  await rejectsWithCode(ch.request(Buffer.from('c'), { signal: AbortSignal.abort() }), 'USBFN_ERR_CANCELED');
  await ch.close();
});

test('detach rejects pending and queued requests with USBFN_ERR_DISCONNECTED, and later ones too', async () => {
  const s = await openEmulated(vendorBulkDeclaration());
  const ch = openMessageChannel(s.device, { maxPending: 1, timeoutMs: 60000 });
  const inFlight = ch.request(Buffer.from('1'));
  const queued = ch.request(Buffer.from('2'));
  await hostReceive(s.host);
  assert.is(ch.pendingRequests, 1, 'the second waits for a slot');
  const failures = [rejectsWithCode(inFlight, 'USBFN_ERR_DISCONNECTED'), rejectsWithCode(queued, 'USBFN_ERR_DISCONNECTED')];
  s.host.detach();
  await Promise.all(failures);
  await rejectsWithCode(ch.request(Buffer.from('3')), 'USBFN_ERR_DISCONNECTED');
  assert.ok(ch.closed);
});

test('close() rejects pending requests with USBFN_ERR_CLOSED; closing the device does too', async () => {
  const s = await openEmulated(vendorBulkDeclaration());
  const ch = openMessageChannel(s.device, { timeoutMs: 60000 });
  const pending = ch.request(Buffer.from('x'));
  await hostReceive(s.host);
  const failed = rejectsWithCode(pending, 'USBFN_ERR_CLOSED');
  await ch.close();
  await failed;
  const ch2 = openMessageChannel(s.device, { timeoutMs: 60000 });
  const pending2 = ch2.request(Buffer.from('y'));
  await hostReceive(s.host);
  const failed2 = rejectsWithCode(pending2, 'USBFN_ERR_CLOSED');
  await s.close();
  await failed2;
});

test('bad options are refused with USBFN_ERR_INVALID_ARG', async () => {
  const s = await openEmulated(vendorBulkDeclaration());
  for (const bad of [{ maxPending: 0 }, { timeoutMs: -1 }, { maxMessageSize: 1.5 }]) {
    let code: string | undefined;
    try {
      openMessageChannel(s.device, bad);
    } catch (err) {
      code = (err as { code?: string }).code;
    }
    assert.is(code, 'USBFN_ERR_INVALID_ARG', JSON.stringify(bad));
  }
});

test.run();
