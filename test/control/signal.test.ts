/**
 * SetupRequest.signal and answers in flight across supersession. The control channel lends one
 * AbortController to request after request and builds no CANCELED error for a request that was
 * answered before it was superseded (issue 12: the control round trip's hot path); these tests
 * hold the contract that leanness must keep: a superseded request's signal is aborted with
 * USBFN_ERR_CANCELED whenever it is read, a successor's answer is never cancelled by its
 * predecessor's abort, a failed request's signal is not aborted by a successor's, an answer in
 * flight is cancelled, and close() waits for answers in flight. Each passes on the code before
 * the change too: the contract is the old one.
 */
import * as assert from 'uvu/assert';
import { classRequest, openDevice, rejection, settleUntil, suitePerBackend } from '../device/harness.js';
import type { SetupRequest } from '../../lib/index.js';

const reasonCode = (signal: AbortSignal) => (signal.reason as { code?: string } | undefined)?.code;

/** Opens a device whose 'setup' handler records each request in `seen`, then lets `handle` answer it (index 0 first). */
async function recordingDevice(backend: Parameters<typeof openDevice>[0], handle: (req: SetupRequest, index: number) => void) {
  const s = await openDevice(backend);
  const seen: SetupRequest[] = [];
  s.device.control.on('setup', (req) => {
    seen.push(req);
    handle(req, seen.length - 1);
  });
  return { s, seen };
}

suitePerBackend('SetupRequest signal', (test, backend) => {
  test('an answered request read before it is superseded: its signal aborts CANCELED then, and the next answer is not cancelled', async () => {
    const aborts: Array<string | undefined> = [];
    const { s, seen } = await recordingDevice(backend, (req, index) => {
      if (index === 0) req.signal.addEventListener('abort', () => aborts.push(reasonCode(req.signal)));
      void req.respond(Buffer.from(`reply ${index + 1}`));
    });
    assert.is(Buffer.from(await s.host.controlTransfer(classRequest('in', 0x01, 16))).toString(), 'reply 1');
    await settleUntil(() => seen[0].state === 'answered', 'the first answer to complete');
    assert.not.ok(seen[0].signal.aborted, 'the current request is not aborted');
    assert.is(Buffer.from(await s.host.controlTransfer(classRequest('in', 0x01, 16))).toString(), 'reply 2');
    assert.equal(aborts, ['USBFN_ERR_CANCELED'], 'the first signal aborted once, when the second setup superseded it');
    assert.is(seen[1].state === 'answering' || seen[1].state === 'answered', true, 'the second answer went through');
    await settleUntil(() => seen[1].state === 'answered', 'the second answer to complete');
    await s.close();
  });

  test('an answered request read only after it was superseded: its signal is aborted CANCELED; the current one is not', async () => {
    const { s, seen } = await recordingDevice(backend, (req, index) => {
      if (index === 0) void req.respond(Buffer.from('first'));
      else req.defer(); // the second stays open while the first one's signal is read
    });
    assert.is(Buffer.from(await s.host.controlTransfer(classRequest('in', 0x01, 16))).toString(), 'first');
    await settleUntil(() => seen[0].state === 'answered', 'the first answer to complete');
    const second = s.host.controlTransfer(classRequest('in', 0x02, 16));
    await settleUntil(() => seen.length === 2, 'the second setup packet');
    const current = seen[1].signal;
    assert.not.ok(current.aborted);
    const old = seen[0].signal;
    assert.ok(old.aborted, 'a superseded request reads an aborted signal');
    assert.is(reasonCode(old), 'USBFN_ERR_CANCELED');
    assert.not.ok(current.aborted, "reading the old request's signal leaves the current one alone");
    await seen[1].respond(Buffer.from('second'));
    assert.is(Buffer.from(await second).toString(), 'second');
    await s.close();
  });

  test('a request superseded before any answer: its signal is aborted CANCELED and answering rejects CANCELED', async () => {
    const { s, seen } = await recordingDevice(backend, (req, index) => {
      if (index === 0) req.defer();
      else void req.respond(Buffer.from('second'));
    });
    const first = rejection(s.host.controlTransfer(classRequest('in', 0x01, 16)));
    await settleUntil(() => seen.length === 1, 'the first setup packet');
    assert.is(Buffer.from(await s.host.controlTransfer(classRequest('in', 0x02, 16))).toString(), 'second');
    assert.is((await first).code, 'USBFN_ERR_CANCELED');
    assert.is(reasonCode(seen[0].signal), 'USBFN_ERR_CANCELED');
    const late = await rejection(seen[0].respond(Buffer.from('late')));
    assert.is(late.code, 'USBFN_ERR_CANCELED');
    assert.is((late as { cause?: unknown }).cause, seen[0].signal.reason, "the rejection's cause is the signal's reason");
    await s.close();
  });

  test("a failed answer's signal is not aborted later by a successor's supersession", async () => {
    const s = await openDevice(backend, { emulator: { noDataStatusStage: 'in' } });
    const failed = new Promise<unknown>((resolve) => s.device.control.once('answerError', resolve));
    const signals: AbortSignal[] = [];
    s.device.control.on('setup', (req) => {
      signals.push(req.signal);
      if (req.bRequest === 0x03) void req.ack(); // 'out': this emulator wants 'in', so the answer fails
      else if (req.bRequest === 0x04) req.defer();
      else void req.respond(Buffer.from('c'));
    });
    const first = rejection(s.host.controlTransfer(classRequest('out', 0x03, 0), undefined, { timeoutMs: 60_000 }));
    await failed;
    const second = rejection(s.host.controlTransfer(classRequest('in', 0x04, 8)));
    await settleUntil(() => signals.length === 2, 'the second setup packet');
    assert.is(Buffer.from(await s.host.controlTransfer(classRequest('in', 0x05, 8))).toString(), 'c');
    await Promise.all([first, second]);
    assert.ok(signals[1].aborted, 'the deferred request was superseded');
    assert.not.ok(signals[0].aborted, 'the failed request was never superseded: its signal stays as it was');
    await s.close();
  });

  test('close() cancels an answer in flight and resolves only once it has ended', async () => {
    const s = await openDevice(backend);
    let answered: SetupRequest | undefined;
    let answer: Promise<string> | undefined;
    let closing: Promise<void> | undefined;
    let stateAtClose: string | undefined;
    s.device.control.on('setup', (req) => {
      answered = req;
      answer = req.respond(Buffer.from('in flight')).then(() => 'resolved', (e: { code?: string }) => e.code ?? 'no code');
      stateAtClose = req.state;
      closing = s.device.close(); // while the answer's IOCTLs are in flight
    });
    const host = rejection(s.host.controlTransfer(classRequest('in', 0x01, 64)));
    await settleUntil(() => closing !== undefined, 'the setup packet');
    assert.is(stateAtClose, 'answering');
    await closing;
    assert.is.not(answered!.state, 'answering', 'close() resolved only after the answer ended');
    // Cancelled by the supersede, or refused by the driver closing beside it: either way not sent.
    assert.ok(['USBFN_ERR_CANCELED', 'USBFN_ERR_CLOSED'].includes((await answer)!), `answer: ${await answer}`);
    await host;
    await s.close();
  });
});
