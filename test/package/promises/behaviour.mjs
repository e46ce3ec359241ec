// README sentences about behaviour, checked against the installed package on the emulator:
// events and their order, EP0 rules, ZLPs, bus loss (reset, detach), close() and destroy(),
// the emulated host, the message channel, and that the library prints nothing.
import { once } from 'node:events';
import { UsbFnDevice, GenericUsbFnDriver } from 'usbfn';
import { EmulatedGenericUsbFn, FaultInjector, FAULT_KINDS, DEFAULT_IOCTL_ERRORS } from 'usbfn/emulator';
import { openMessageChannel, vendorBulkDeclaration, emulatorOptionsFor, encodeFrame, decodeFrame, FrameKind, FRAME_HEADER_SIZE } from 'usbfn/protocols';
import { promise, runPromises, same, failsWith, ok, settle } from './harness.mjs';

const vendorIn = (bRequest, wLength, wIndex = 0) => ({ bmRequestType: 0xc0, bRequest, wValue: 0, wIndex, wLength });
const vendorOut = (bRequest, wLength) => ({ bmRequestType: 0x40, bRequest, wValue: 0, wIndex: 0, wLength });

async function stack({ enumerate = true, emulatorOptions } = {}) {
  const emulated = new EmulatedGenericUsbFn(emulatorOptions);
  const ioctls = [];
  emulated.on('ioctl', (info) => ioctls.push(info));
  const device = await UsbFnDevice.open({ driver: new GenericUsbFnDriver(emulated) });
  if (enumerate) await emulated.host.enumerate({ speed: 'high' });
  return { emulated, device, host: emulated.host, ioctls };
}

async function until(condition) {
  while (!condition()) await new Promise((r) => setTimeout(r, 5));
}

promise('open() reads the class info, starts listening for bus events, then activates the bus', async () => {
  const s = await stack({ enumerate: false });
  const names = s.ioctls.map((i) => i.name);
  const at = (name) => names.indexOf(name);
  ok(at('GET_CLASS_INFO') >= 0 && at('GET_CLASS_INFO') < at('BUS_EVENT_NOTIFICATION') && at('BUS_EVENT_NOTIFICATION') < at('ACTIVATE_USB_BUS'), `order: ${names.join(', ')}`);
  await s.device.close();
});

promise('enumerate emits attach (speed), reset (speed), configured (value), with state events in between', async () => {
  const s = await stack({ enumerate: false });
  const seen = [];
  for (const name of ['attach', 'reset', 'configured']) s.device.on(name, (arg) => seen.push(`${name} ${arg}`));
  s.device.on('state', (state, previous) => seen.push(`state ${previous}→${state}`));
  await s.host.enumerate({ speed: 'high' });
  same(seen, ['state detached→attached', 'attach high', 'state attached→default', 'reset high', 'state default→configured', 'configured 1'], 'events');
  await s.device.close();
});

promise('the other events: suspend, resume, setinterface, unconfigured, detach, porttype, busteardown, event (unknown code, raw bytes)', async () => {
  const s = await stack();
  const seen = [];
  const names = ['suspend', 'resume', 'setinterface', 'unconfigured', 'detach', 'porttype', 'busteardown', 'event'];
  for (const name of names) s.device.on(name, (...args) => seen.push([name, ...args.map((a) => (a instanceof Uint8Array ? Buffer.from(a).toString('hex') : a))].join(' ')));
  const iterated = [];
  const stop = new AbortController();
  const watching = (async () => {
    try {
      for await (const ev of s.device.events({ signal: stop.signal })) iterated.push(ev.type);
    } catch (err) {
      if (err.code !== 'USBFN_ERR_CANCELED') throw err;
    }
  })();
  await settle();
  s.host.suspend();
  s.host.resume();
  s.host.setInterface(0, 1);
  s.host.rawEvent(0x7e, Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]));
  s.host.portType(2);
  s.host.unconfigure();
  s.host.busTearDown();
  s.host.detach();
  await until(() => seen.length === 8);
  same(seen, ['suspend', 'resume', 'setinterface 0 1', 'event 126 0102030405060708', 'porttype 2', 'unconfigured', 'busteardown', 'detach'], 'events');
  await until(() => iterated.length === 8);
  same(iterated, ['suspend', 'resume', 'setinterface', 'event', 'porttype', 'unconfigured', 'busteardown', 'detach'], 'the iterator');
  stop.abort();
  await watching;
  await s.device.close();
});

promise('events(): the signal ends it with USBFN_ERR_CANCELED; it ends when the device closes; it throws the error of destroy(err)', async () => {
  const s = await stack();
  const stop = new AbortController();
  const aborted = (async () => { for await (const _ of s.device.events({ signal: stop.signal })); })();
  stop.abort();
  await failsWith('USBFN_ERR_CANCELED', () => aborted, 'an aborted iterator');
  const ending = (async () => { let n = 0; for await (const _ of s.device.events()) n++; return n; })();
  await settle();
  await s.device.close();
  same(await ending, 0, 'events before the end');
  const t = await stack();
  const failing = (async () => { for await (const _ of t.device.events()); })();
  await settle();
  const boom = Object.assign(new Error('boom'), { code: 'MY_CODE' });
  t.device.destroy(boom);
  await failsWith('MY_CODE', () => failing, 'the iterator after destroy(err)');
});

promise("the setup request: direction, type, recipient, bRequest, wValue, wIndex, wLength, interfaceNumber (wIndex's low byte)", async () => {
  const s = await stack();
  let fields;
  s.device.control.on('setup', (req) => {
    fields = [req.direction, req.type, req.recipient, req.bRequest, req.wValue, req.wIndex, req.wLength, req.interfaceNumber];
    void req.respond(Buffer.from('x'));
  });
  await s.host.controlTransfer({ bmRequestType: 0xa1, bRequest: 0x21, wValue: 0x1234, wIndex: 0x0700, wLength: 7 });
  same(fields, ['deviceToHost', 'class', 'interface', 0x21, 0x1234, 0x0700, 7, 0], 'fields');
  await s.device.close();
});

promise('respond(): truncate cuts a long reply; a ZLP ends a reply shorter than wLength and a multiple of EP0 max packet', async () => {
  const s = await stack();
  s.device.control.handle({ type: 'vendor', request: 0x30 }, () => undefined);
  s.device.control.on('setup', (req) => void req.respond(Buffer.alloc(req.wIndex, 0x55), { truncate: true }));
  same((await s.host.controlTransfer(vendorIn(0x31, 4, 10))).length, 4, 'truncated reply');
  const before = s.ioctls.length;
  same((await s.host.controlTransfer(vendorIn(0x31, 256, 64))).length, 64, 'a 64-byte reply to wLength 256');
  const transfers = s.ioctls.slice(before).filter((i) => i.name.startsWith('TRANSFER_IN')).map((i) => `${i.name} ${i.length}`);
  same(transfers, ['TRANSFER_IN_APPEND_ZERO_PKT 64'], 'the data stage on EP0 (with its ZLP)');
  const short = s.ioctls.length;
  await s.host.controlTransfer(vendorIn(0x31, 256, 63));
  same(s.ioctls.slice(short).filter((i) => i.name.startsWith('TRANSFER_IN')).map((i) => `${i.name} ${i.length}`), ['TRANSFER_IN 63'], 'a 63-byte reply (no ZLP)');
  await s.device.close();
});

promise('respond(): TRANSFER_IN of the data, then the OUT status handshake; receive(): TRANSFER_OUT of wLength bytes, then the IN handshake', async () => {
  const s = await stack();
  s.device.control.on('setup', (req) => void (req.direction === 'deviceToHost' ? req.respond(Buffer.from('abc')) : req.receive()));
  const stages = async (transfer) => {
    const before = s.ioctls.length;
    await transfer();
    return s.ioctls.slice(before).filter((i) => i.pipeId === 0 || i.name.startsWith('CONTROL')).map((i) => `${i.name} ${i.length}`);
  };
  same(await stages(() => s.host.controlTransfer(vendorIn(0x32, 16))), ['TRANSFER_IN 3', 'CONTROL_STATUS_HANDSHAKE_OUT 0'], 'respond()');
  same(await stages(() => s.host.controlTransfer(vendorOut(0x33, 5), Buffer.from('12345'))), ['TRANSFER_OUT 5', 'CONTROL_STATUS_HANDSHAKE_IN 0'], 'receive()');
  await s.device.close();
});

promise('a request nobody answers by the end of the tick is stalled; the emulated host sees USBFN_ERR_STALLED', async () => {
  const s = await stack();
  await failsWith('USBFN_ERR_STALLED', () => s.host.controlTransfer(vendorIn(0x40, 8)));
  s.device.control.on('setup', (req) => { if (req.bRequest === 0x41) void req.stall(); });
  await failsWith('USBFN_ERR_STALLED', () => s.host.controlTransfer(vendorIn(0x41, 8)), 'stall()');
  await s.device.close();
});

promise('a deferred request never answered: the host times out with USBFN_ERR_TIMEOUT; a newer setup supersedes it (answering rejects CANCELED, signal aborts)', async () => {
  const s = await stack();
  let first;
  s.device.control.on('setup', (req) => {
    if (!first) {
      first = req;
      req.defer();
    } else void req.respond(Buffer.from('second'));
  });
  await failsWith('USBFN_ERR_TIMEOUT', () => s.host.controlTransfer(vendorIn(0x50, 8), undefined, { timeoutMs: 100 }), 'the host');
  same(Buffer.from(await s.host.controlTransfer(vendorIn(0x51, 8))).toString(), 'second', 'the newer request');
  ok(first.signal.aborted, "the superseded request's signal");
  await failsWith('USBFN_ERR_CANCELED', () => first.respond(Buffer.from('late')), 'answering the superseded request');
  await s.device.close();
});

promise('reset, detach and close() supersede an open request: answering it rejects CANCELED', async () => {
  for (const how of ['reset', 'detach', 'close']) {
    const s = await stack();
    let open;
    s.device.control.on('setup', (req) => {
      open = req;
      req.defer();
    });
    const transfer = s.host.controlTransfer(vendorIn(0x52, 8)).catch(() => undefined);
    await until(() => open);
    if (how === 'reset') s.host.reset('high');
    if (how === 'detach') s.host.detach();
    if (how === 'close') await s.device.close();
    await until(() => open.signal.aborted);
    await failsWith('USBFN_ERR_CANCELED', () => open.respond(Buffer.from('late')), `answering after ${how}`);
    await transfer;
    await s.device.close();
  }
});

promise("answer failures other than cancellation go to control's answerError; a throwing handler to handlerError", async () => {
  const s = await stack();
  const errors = [];
  s.device.control.on('answerError', (err) => errors.push(`answer ${err.code}`));
  s.device.control.on('handlerError', (err) => errors.push(`handler ${err.message}`));
  s.device.control.handle({ type: 'vendor', request: 0x60 }, () => { throw new Error('boom'); });
  await failsWith('USBFN_ERR_STALLED', () => s.host.controlTransfer(vendorIn(0x60, 8)), 'the host');
  s.device.control.handle({ type: 'vendor', request: 0x62 }, () => Buffer.from('x'));
  await s.host.controlTransfer(vendorIn(0x62, 8)); // learns TRANSFER_IN's code
  const { code } = s.ioctls.find((i) => i.name === 'TRANSFER_IN');
  s.emulated.injectFault({ code, errno: 31 });
  s.device.control.handle({ type: 'vendor', request: 0x61 }, () => Buffer.from('x'));
  await s.host.controlTransfer(vendorIn(0x61, 8), undefined, { timeoutMs: 300 }).catch(() => undefined);
  await until(() => errors.length === 2);
  same(errors, ['handler boom', 'answer USBFN_ERR_DRIVER'], 'reported');
  await s.device.close();
});

promise("zlp 'auto': a write of a multiple of wMaxPacketSize ends with a ZLP (the host's read ends there); 'never' sends none", async () => {
  const s = await stack();
  const auto = s.device.openWriter();
  auto.write(Buffer.alloc(512, 1));
  auto.write(Buffer.alloc(100, 2));
  same((await s.host.bulkIn(0x81, 4096)).length, 512, "read ended by the ZLP ('auto')");
  same((await s.host.bulkIn(0x81, 4096)).length, 100, 'the next write');
  auto.write(Buffer.alloc(0));
  same((await s.host.bulkIn(0x81, 4096)).length, 0, "an empty write is a ZLP ('auto')");
  auto.destroy();
  await once(auto, 'close');
  const never = s.device.openWriter({ zlp: 'never' });
  void never.writeTransfer(Buffer.alloc(512, 1));
  void never.writeTransfer(Buffer.alloc(100, 2));
  same((await s.host.bulkIn(0x81, 4096)).length, 612, "one read across both writes ('never')");
  const zlp = never.writeTransfer(Buffer.alloc(512, 3), { zlp: true });
  void never.writeTransfer(Buffer.alloc(100, 4));
  same((await s.host.bulkIn(0x81, 4096)).length, 512, "writeTransfer(buf, { zlp: true }) on a 'never' pipe");
  await zlp;
  same((await s.host.bulkIn(0x81, 4096)).length, 100, 'then the next');
  await s.device.close();
});

promise('packetMode: one chunk per transfer, a received ZLP arrives as an empty Buffer', async () => {
  const s = await stack();
  const reader = s.device.openReader({ packetMode: true });
  const chunks = [];
  reader.on('data', (c) => chunks.push(c.length));
  await s.host.bulkOut(0x01, Buffer.alloc(512), { zlp: true }); // one transfer, ended by its ZLP
  await s.host.bulkOut(0x01, Buffer.alloc(0)); // a transfer that is only a ZLP
  await s.host.bulkOut(0x01, Buffer.alloc(10));
  await until(() => chunks.length === 3);
  same(chunks, [512, 0, 10], 'chunks');
  await s.device.close();
});

promise('backpressure reaches the bus: a paused reader issues no new read, the host is NAKed (its transfer times out), nothing is lost on resume; stats count it', async () => {
  const s = await stack();
  const reader = s.device.openReader();
  let got = 0;
  let hold = true;
  reader.on('data', (c) => {
    got += c.length;
    if (hold) reader.pause();
  });
  let sent = 0;
  let stopped;
  while (!stopped && sent < 1024 * 65536) {
    try {
      await s.host.bulkOut(0x01, Buffer.alloc(65536, 1), { timeoutMs: 300 });
      sent += 65536;
    } catch (err) {
      stopped = err;
    }
  }
  same(stopped?.code, 'USBFN_ERR_TIMEOUT', 'the host NAKed');
  sent += stopped.bytesTransferred ?? 0;
  same(reader.stats.readsPending, 0, 'stats.readsPending while the readable side is full');
  ok(['readsPending', 'writesPending', 'poolInUse'].every((k) => typeof reader.stats[k] === 'number'), `stats: ${JSON.stringify(reader.stats)}`);
  hold = false;
  reader.resume();
  await until(() => got === sent);
  await s.device.close();
});

promise('a reset or detach under the default pipes loses and repeats nothing; they resume on the next configured', async () => {
  const s = await stack();
  const pipe = s.device.openPipe({ zlp: 'never' });
  let received = '';
  let errored = false;
  pipe.on('error', () => (errored = true));
  pipe.on('data', (c) => (received += c.toString()));
  await s.host.bulkOut(0x01, Buffer.from('one '));
  pipe.write(Buffer.from('queued before the reset'));
  s.host.reset('high');
  s.host.configure(1);
  await s.host.bulkOut(0x01, Buffer.from('two '));
  s.host.detach();
  await s.host.enumerate();
  await s.host.bulkOut(0x01, Buffer.from('three'));
  await until(() => received.length === 13);
  same(received, 'one two three', 'received');
  same(Buffer.from(await s.host.bulkIn(0x81, 512)).toString(), 'queued before the reset', 'the write re-sent once');
  ok(!errored, 'a pipe errored');
  await s.device.close();
});

promise("onBusLoss 'end': a detach ends the reader (no 'error'), drops writes (writesDropped, writeTransfer rejects DISCONNECTED); 'destroy' errors DISCONNECTED", async () => {
  const s = await stack();
  const pipe = s.device.openPipe({ onBusLoss: 'end' });
  const events = [];
  pipe.on('error', (e) => events.push(`error ${e.code}`));
  pipe.on('data', (c) => events.push(`data ${c}`));
  pipe.on('end', () => events.push('end'));
  await s.host.bulkOut(0x01, Buffer.from('hi'));
  await until(() => events.length === 1);
  const dropped = pipe.writeTransfer(Buffer.from('never taken'));
  const callback = new Promise((r) => pipe.write(Buffer.from('nor this'), (err) => r(err ?? null)));
  s.host.detach();
  await failsWith('USBFN_ERR_DISCONNECTED', () => dropped, 'writeTransfer');
  await callback;
  await until(() => pipe.destroyed);
  same(events, ['data hi', 'end'], 'reader events');
  ok(pipe.stats.writesDropped >= 1, `stats.writesDropped ${pipe.stats.writesDropped}`);
  await s.host.enumerate();
  const d = s.device.openReader({ onBusLoss: 'destroy' });
  const failed = once(d, 'error');
  d.resume();
  s.host.detach();
  same((await failed)[0].code, 'USBFN_ERR_DISCONNECTED', "'destroy'");
  await s.device.close();
});

promise("cancelledWrites 'fail': a write cancelled in flight by the bus destroys the stream with USBFN_ERR_CANCELED", async () => {
  const s = await stack();
  const w = s.device.openWriter({ cancelledWrites: 'fail' });
  const failed = once(w, 'error');
  w.write(Buffer.alloc(100));
  await until(() => s.emulated.pending() > 0);
  await settle();
  s.host.reset('high');
  same((await failed)[0].code, 'USBFN_ERR_CANCELED', 'error');
  await s.device.close();
});

promise("stall(), isStalled(), clearStall(); a transfer on a pipe halted behind the stream's back emits 'stall' and waits for the host's clear; onStall 'error' destroys with USBFN_ERR_STALLED", async () => {
  const s = await stack();
  const w = s.device.openWriter();
  await w.stall();
  ok(await w.isStalled(), 'isStalled() after stall()');
  ok(s.host.isHalted(0x81), 'the host sees the halt');
  const waited = w.writeTransfer(Buffer.from('after clearStall'));
  await w.clearStall();
  ok(!(await w.isStalled()) && !s.host.isHalted(0x81), 'halted after clearStall()');
  same(Buffer.from(await s.host.bulkIn(0x81, 64)).toString(), 'after clearStall', 'the write that waited');
  await waited;
  const stalls = [];
  w.on('stall', (e) => stalls.push(e.error.code));
  await s.device.driver.setPipeState(s.device.findPipe(0x81).pipeId, true); // behind the stream's back
  const sent = w.writeTransfer(Buffer.from('after the halt'));
  await until(() => stalls.length > 0);
  same(stalls, ['USBFN_ERR_STALLED'], "'stall' events");
  s.host.clearHalt(0x81);
  same(Buffer.from(await s.host.bulkIn(0x81, 64)).toString(), 'after the halt', 'the write waited for the host to clear the halt');
  await sent;
  await s.device.driver.setPipeState(s.device.findPipe(0x01).pipeId, true);
  const e = s.device.openReader({ onStall: 'error' });
  const failed = once(e, 'error');
  e.resume();
  same((await failed)[0].code, 'USBFN_ERR_STALLED', "onStall 'error'");
  await s.device.close();
});

promise("close(): idempotent (the same promise), emits 'close', closes the driver, leaves nothing pending; a for-await reading a pipe ends with ERR_STREAM_PREMATURE_CLOSE", async () => {
  const s = await stack();
  const reader = s.device.openReader();
  const reading = (async () => { for await (const _ of reader); })();
  let closes = 0;
  s.device.on('close', () => closes++);
  const first = s.device.close();
  ok(s.device.close() === first, 'close() twice');
  await first;
  same(closes, 1, "'close' events");
  ok(s.emulated.closed, 'the driver (emulator) is closed');
  same(s.emulated.pending(), 0, 'IOCTLs pending');
  await failsWith('ERR_STREAM_PREMATURE_CLOSE', () => reading, 'the for-await');
});

promise("destroy(err) emits 'error' (err) before 'close'; with no listener and no iterator, the error is thrown", async () => {
  const s = await stack();
  const seen = [];
  s.device.on('error', (e) => seen.push(`error ${e.message}`));
  s.device.on('close', () => seen.push('close'));
  s.device.destroy(new Error('boom'));
  await until(() => seen.length === 2);
  same(seen, ['error boom', 'close'], 'events');
  const t = await stack();
  const uncaught = new Promise((resolve) => process.once('uncaughtException', resolve));
  t.device.destroy(new Error('unheard'));
  same((await uncaught).message, 'unheard', 'thrown');
});

promise("the emulated host: controlTransfer with a data stage; the emulator's 'ioctl'/'complete' events and pending({ code })", async () => {
  const s = await stack();
  const completes = [];
  s.emulated.on('complete', (c) => completes.push(c));
  let got;
  s.device.control.on('setup', (req) => void req.receive().then((d) => (got = Buffer.from(d).toString())));
  await s.host.controlTransfer(vendorOut(0x70, 5), Buffer.from('hello'));
  await until(() => got);
  same(got, 'hello', 'the data stage');
  ok(completes.some((c) => c.name === 'TRANSFER_OUT' && c.errno === 0 && c.bytesReturned === 5), "'complete' events");
  const code = s.ioctls.find((i) => i.name === 'TRANSFER_OUT').code;
  same(s.emulated.pending({ code }), 0, 'pending({ code }) with no reader');
  const reader = s.device.openReader();
  reader.on('data', () => undefined);
  await until(() => s.emulated.pending({ code }) === 4);
  await s.device.close();
  same(s.emulated.pending(), 0, 'pending() after close');
});

promise('FAULT_KINDS lists the documented kinds; DEFAULT_IOCTL_ERRORS is exported; a FaultInjector seed replays the same faults', async () => {
  same([...FAULT_KINDS].sort(), ['badByteCount', 'controlAbandon', 'detach', 'hostStall', 'hostStopsReading', 'hostStopsSending', 'ioctlError', 'reset', 'setupBeforeStatus', 'suspend', 'unconfigure', 'unknownEvent'], 'FAULT_KINDS');
  ok(DEFAULT_IOCTL_ERRORS && Object.keys(DEFAULT_IOCTL_ERRORS).length > 0, 'DEFAULT_IOCTL_ERRORS');
  const run = async () => {
    const s = await stack();
    s.device.control.on('setup', (req) => void (req.direction === 'hostToDevice' ? req.receive() : req.respond(Buffer.alloc(0))));
    s.device.openReader().resume();
    const faults = new FaultInjector(s.emulated, { seed: 7, kinds: ['reset', 'detach', 'unconfigure', 'suspend', 'unknownEvent'] });
    for (let i = 0; i < 6; i++) await faults.injectRandom();
    const counts = { ...faults.counts };
    same(faults.total, 6, 'total');
    await s.device.close();
    return counts;
  };
  same(await run(), await run(), 'counts of two runs with one seed');
});

promise('FaultInjector: inject(kind) resolves once the host has recovered the bus; start()/stop() fire faults in the background; counts and total count them', async () => {
  const s = await stack();
  s.device.control.on('setup', (req) => void (req.direction === 'hostToDevice' ? req.receive() : req.respond(Buffer.alloc(0))));
  const faults = new FaultInjector(s.emulated, { seed: 3, kinds: ['reset', 'detach', 'suspend'] });
  for (const kind of ['reset', 'detach', 'suspend']) {
    await faults.inject(kind);
    same(s.host.state, 'configured', `the host's bus state once inject('${kind}') resolved`);
    await until(() => s.device.state === 'configured'); // from its next bus event
  }
  faults.start(5);
  await until(() => faults.total >= 6);
  await faults.stop();
  same(s.host.state, 'configured', "the host's bus state after stop()");
  same(Object.values(faults.counts).reduce((a, b) => a + b, 0), faults.total, 'counts add up to total');
  for (const name of ['armOnIoctl', 'gate', 'injectRandom']) ok(typeof faults[name] === 'function', `FaultInjector lacks ${name}`);
  await s.device.close();
});

promise('message channel: an 8-byte header (kinds 1-4); failures TIMEOUT, CANCELED, REMOTE, DISCONNECTED, CLOSED', async () => {
  same([FRAME_HEADER_SIZE, FrameKind.REQUEST, FrameKind.RESPONSE, FrameKind.ERROR, FrameKind.MESSAGE], [8, 1, 2, 3, 4], 'header size and kinds');
  const frame = encodeFrame(FrameKind.REQUEST, 0x01020304, Buffer.from('x'));
  same(Buffer.from(frame).toString('hex'), '01000000040302017' + '8', 'a request frame (kind, 3 reserved, id LE, payload)');
  const emulated = new EmulatedGenericUsbFn(emulatorOptionsFor(vendorBulkDeclaration()));
  const device = await UsbFnDevice.open({ driver: new GenericUsbFnDriver(emulated) });
  const channel = openMessageChannel(device, { timeoutMs: 100 });
  const host = emulated.host;
  await host.enumerate();
  await failsWith('USBFN_ERR_TIMEOUT', () => channel.request(Buffer.from('a')), 'no answer');
  await failsWith('USBFN_ERR_CANCELED', () => channel.request(Buffer.from('b'), { signal: AbortSignal.abort() }), 'an aborted signal');
  const remote = channel.request(Buffer.from('c'), { timeoutMs: 5000 });
  let c;
  while (!c) {
    const frame = decodeFrame(Buffer.from(await host.bulkIn(0x81, 4096)));
    if (frame.payload.toString() === 'c') c = frame;
  }
  await host.bulkOut(0x01, encodeFrame(FrameKind.ERROR, c.id, Buffer.from('no')), { zlp: true });
  await failsWith('USBFN_ERR_REMOTE', () => remote, 'an error response');
  const pending = channel.request(Buffer.from('d'), { timeoutMs: 5000 });
  await host.bulkIn(0x81, 4096);
  host.detach();
  await failsWith('USBFN_ERR_DISCONNECTED', () => pending, 'a detach');
  await channel.close();
  await host.enumerate();
  const second = openMessageChannel(device);
  const unanswered = second.request(Buffer.from('e')).then(() => null, (err) => err);
  await host.bulkIn(0x81, 4096);
  await second.close();
  same((await unanswered)?.code, 'USBFN_ERR_CLOSED', 'a request pending at close()');
  await failsWith('USBFN_ERR_CLOSED', () => second.request(Buffer.from('f')), 'after close()');
  await device.close();
});

await runPromises();
