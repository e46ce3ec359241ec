/**
 * FunctionFsDriver against a fake mount: ep0 a FIFO (the test plays the kernel's event queue),
 * ep1/ep2 plain files (AIO works on them). Checks what the driver writes and how it maps events,
 * answers setup requests and moves data, without a kernel gadget.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { isUsbFnError } from '../../lib/errors.js';
import type { FunctionFsDriver as Driver } from '../../lib/driver/functionfs/ffs-driver.js';
import { buildFfsBlobs } from '../../lib/driver/functionfs/blobs.js';

const skip = process.platform !== 'linux' ? 'FunctionFS needs Linux' : null;
if (skip) console.log(`skipping FunctionFS driver tests: ${skip}`);
const { FunctionFsDriver } = skip ? ({} as typeof import('../../lib/driver/functionfs/ffs-driver.js')) : await import('../../lib/driver/functionfs/ffs-driver.js');
const { linuxFfi } = skip ? ({} as typeof import('../../lib/driver/functionfs/linux-ffi.js')) : await import('../../lib/driver/functionfs/linux-ffi.js');
const EBADMSG = 74;

const FN = { endpoints: [{ address: 0x81 }, { address: 0x01 }], interfaceString: 'fake' };
const ev = (type: number, setup = [0, 0, 0, 0, 0, 0, 0, 0]) => Buffer.from([...setup, type, 0, 0, 0]);

interface Fake {
  dir: string;
  ep0: number; // the test's end of the FIFO
  driver: Driver;
  close(): Promise<void>;
}

async function fakeMount(): Promise<Fake> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'usbfn-ffs-'));
  execFileSync('mkfifo', [path.join(dir, 'ep0')]);
  const ep0 = fs.openSync(path.join(dir, 'ep0'), fs.constants.O_RDWR | fs.constants.O_NONBLOCK);
  fs.writeFileSync(path.join(dir, 'ep1'), '');
  fs.writeFileSync(path.join(dir, 'ep2'), 'from the host');
  const driver = await FunctionFsDriver.open({ mountPoint: dir, function: FN, udc: 'none' });
  return {
    dir, ep0, driver,
    async close() {
      await driver.close();
      fs.closeSync(ep0);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

const t = (name: string, fn: () => Promise<void>) => (skip ? undefined : test(name, fn));

/** A fake mount whose blobs the test took off ep0 already: what ep0 holds next is the events the test plays. */
async function eventsOnly(): Promise<Fake> {
  const f = await fakeMount();
  fs.readSync(f.ep0, Buffer.alloc(4096));
  return f;
}

/** Plays the kernel queueing a SETUP of these 8 bytes; resolves with the bus event the driver makes of it. */
async function playSetup(f: Fake, setup: number[]) {
  fs.writeSync(f.ep0, ev(4, setup));
  return f.driver.nextBusEvent({ signal: AbortSignal.timeout(5000) });
}

t('open writes the descriptors then the strings blob to ep0', async () => {
  const f = await fakeMount();
  const written = Buffer.alloc(4096);
  const n = fs.readSync(f.ep0, written); // still in the FIFO: the driver's pump has not run yet
  const blobs = buildFfsBlobs(FN);
  assert.equal([...written.subarray(0, n)], [...blobs.descriptors, ...blobs.strings]);
  await f.close();
});

t('ep0 events come out as bus events, in order', async () => {
  const f = await eventsOnly();
  fs.writeSync(f.ep0, Buffer.concat([ev(0), ev(2), ev(5), ev(6)]));
  const types = [];
  for (let i = 0; i < 5; i++) types.push((await f.driver.nextBusEvent({ signal: AbortSignal.timeout(5000) })).type);
  assert.equal(types, ['attach', 'reset', 'configured', 'suspend', 'resume']);
  await f.close();
});

t('a SETUP pauses the pump until answered; the handshake of a no-data request is a 0-byte read', async () => {
  const f = await eventsOnly();
  const e = await playSetup(f, [0x21, 0x03, 0, 0, 0, 0, 0, 0]);
  assert.equal(e, { type: 'setup', setup: { bmRequestType: 0x21, bRequest: 3, wValue: 0, wIndex: 0, wLength: 0 } });
  fs.writeSync(f.ep0, ev(3)); // queued behind the pending request
  await f.driver.controlHandshakeOut();
  const again = await f.driver.controlHandshakeOut().catch((err: unknown) => err);
  assert.ok(isUsbFnError(again, 'USBFN_ERR_INVALID_STATE'), 'a second handshake has no request to complete');
  assert.equal(await f.driver.nextBusEvent({ signal: AbortSignal.timeout(5000) }), { type: 'unconfigured' });
  await f.close();
});

t('an endpoint-recipient SETUP names the declared address, not the kernel\'s endpoint file number', async () => {
  const f = await eventsOnly();
  // f_fs.c hands wIndex over as the endpoint file's number: ep2 is the second endpoint, OUT 0x01
  const e = await playSetup(f, [0xa2, 0x05, 0, 0, 2, 0, 2, 0]);
  assert.equal(e, { type: 'setup', setup: { bmRequestType: 0xa2, bRequest: 5, wValue: 0, wIndex: 0x01, wLength: 2 } });
  await f.driver.setPipeState(0, true);
  const i = await playSetup(f, [0x21, 0x05, 0, 0, 0, 0, 0, 0]); // an interface's wIndex is kept as it is
  assert.equal(i, { type: 'setup', setup: { bmRequestType: 0x21, bRequest: 5, wValue: 0, wIndex: 0, wLength: 0 } });
  await f.close();
});

t('data pipes move bytes through AIO; a ZLP follows a whole-packet write when asked', async () => {
  const f = await fakeMount();
  const sent = Buffer.alloc(512, 7);
  assert.is(await f.driver.transferIn(1, sent, { zlp: true }), 512);
  assert.is(fs.readFileSync(path.join(f.dir, 'ep1')).length, 512); // the ZLP is a 0-byte write: nothing added
  const buf = Buffer.alloc(64);
  assert.is(await f.driver.transferOut(2, buf), 13);
  assert.is(buf.toString('utf8', 0, 13), 'from the host');
  await f.close();
});

/** A TransferSink whose reports resolve a promise, one transfer at a time. */
function promiseSink() {
  let settle: (v: unknown) => void = () => undefined;
  return {
    next: () => new Promise<unknown>((resolve) => (settle = resolve)),
    transferred: (n: number) => settle(n),
    transferFailed: (err: unknown) => settle(err),
  };
}

t('openTransfer: plain data transfers go straight to AIO (no transferIn / transferOut), with the same results', async () => {
  const f = await fakeMount();
  const viaPromise: string[] = [];
  const { transferIn, transferOut } = f.driver;
  f.driver.transferIn = (...a) => (viaPromise.push('in'), transferIn.apply(f.driver, a));
  f.driver.transferOut = (...a) => (viaPromise.push('out'), transferOut.apply(f.driver, a));
  const outSink = promiseSink();
  const out = f.driver.openTransfer('out', outSink);
  const buf = Buffer.alloc(64);
  let done = outSink.next();
  out.submit(2, buf);
  assert.is(await done, 13);
  assert.is(buf.toString('utf8', 0, 13), 'from the host');
  const inSink = promiseSink();
  const handleIn = f.driver.openTransfer('in', inSink);
  done = inSink.next();
  handleIn.submit(1, Buffer.from('abc'), { zlp: true }); // not a whole packet: no ZLP, straight
  assert.is(await done, 3);
  assert.is(fs.readFileSync(path.join(f.dir, 'ep1'), 'utf8'), 'abc');
  assert.equal(viaPromise, []);
  done = inSink.next();
  handleIn.submit(1, Buffer.alloc(512, 1), { zlp: true }); // a ZLP to follow: transferIn's path
  assert.is(await done, 512);
  assert.equal(viaPromise, ['in']);
  await f.close();
});

t('openTransfer: refusals reach the sink as the same coded errors transferIn / transferOut reject with', async () => {
  const f = await fakeMount();
  const sink = promiseSink();
  const out = f.driver.openTransfer('out', sink);
  let done = sink.next();
  out.submit(1, Buffer.alloc(1)); // pipe 1 is IN
  assert.ok(isUsbFnError(await done, 'USBFN_ERR_INVALID_ARG'));
  done = sink.next();
  out.submit(9, Buffer.alloc(1));
  assert.ok(isUsbFnError(await done, 'USBFN_ERR_INVALID_ARG'));
  done = sink.next();
  out.submit(2, Buffer.alloc(1), { signal: AbortSignal.abort() });
  assert.ok(isUsbFnError(await done, 'USBFN_ERR_CANCELED'));
  await f.close();
  done = sink.next();
  out.submit(2, Buffer.alloc(1));
  assert.ok(isUsbFnError(await done, 'USBFN_ERR_CLOSED'));
});

/** Runs `halt` with libc's read/write answering EBADMSG, as FunctionFS does to wrong-direction I/O once it has set the halt. */
function asIfHalted<T>(halt: () => T): T {
  const ffi = linuxFfi();
  const { read, write, errno } = ffi;
  ffi.read = ffi.write = () => -1;
  ffi.errno = () => EBADMSG;
  try {
    return halt();
  } finally {
    Object.assign(ffi, { read, write, errno });
  }
}

t('a halt the driver set is forgotten when a transfer completes after it, even one issued before it', async () => {
  const f = await fakeMount();
  try {
    // Issued before the halt, completing after it: on FunctionFS it waits behind the halt, and its
    // completion means the host has cleared it. (Here the read completes at once; what matters is
    // that the driver learns of it only after setPipeState.)
    const early = f.driver.transferOut(2, Buffer.alloc(64));
    await asIfHalted(() => f.driver.setPipeState(2, true));
    assert.ok(await f.driver.getPipeState(2), 'halted: no completion harvested yet');
    assert.is(await early, 13);
    assert.not.ok(await f.driver.getPipeState(2), 'the completion of a transfer issued before the halt clears it');
    // Only the endpoint whose transfer moved: a completion on another one leaves the halt standing.
    await asIfHalted(() => f.driver.setPipeState(2, true));
    assert.is(await f.driver.transferIn(1, Buffer.from('x')), 1);
    assert.ok(await f.driver.getPipeState(2), 'a completion on ep1 does not clear ep2');
    assert.is(await f.driver.transferOut(2, Buffer.alloc(64)), 13);
    assert.not.ok(await f.driver.getPipeState(2));
  } finally {
    await f.close();
  }
});

t('wrong pipes and closed drivers refuse with coded errors', async () => {
  const f = await fakeMount();
  const wrongDir = await f.driver.transferIn(2, Buffer.alloc(1)).catch((e: unknown) => e);
  assert.ok(isUsbFnError(wrongDir, 'USBFN_ERR_INVALID_ARG'));
  const noPipe = await f.driver.transferOut(9, Buffer.alloc(1)).catch((e: unknown) => e);
  assert.ok(isUsbFnError(noPipe, 'USBFN_ERR_INVALID_ARG'));
  const strings = await f.driver.registerString(1, 'x').catch((e: unknown) => e);
  assert.ok(isUsbFnError(strings, 'USBFN_ERR_NOT_SUPPORTED'));
  const noSetup = await f.driver.transferIn(0, Buffer.alloc(1)).catch((e: unknown) => e);
  assert.ok(isUsbFnError(noSetup, 'USBFN_ERR_CANCELED'));
  const noRequest = await f.driver.controlHandshakeIn().catch((e: unknown) => e);
  assert.ok(isUsbFnError(noRequest, 'USBFN_ERR_INVALID_STATE'), 'a handshake with no setup request');
  await f.close();
  const closed = await f.driver.transferIn(1, Buffer.alloc(1)).catch((e: unknown) => e);
  assert.ok(isUsbFnError(closed, 'USBFN_ERR_CLOSED'));
  const next = await f.driver.nextBusEvent().catch((e: unknown) => e);
  assert.ok(isUsbFnError(next, 'USBFN_ERR_CLOSED'));
});

t('class info: pipe 0 is EP0, pipe n the n-th endpoint, packet sizes per speed', async () => {
  const f = await fakeMount();
  const info = await f.driver.getClassInfo();
  assert.equal(info.high.pipes.map((p) => [p.pipeId, p.endpointAddress, p.type, p.maxPacketSize]), [[0, 0, 'control', 64], [1, 0x81, 'bulk', 512], [2, 0x01, 'bulk', 512]]);
  assert.is(info.super.pipes[1]!.maxPacketSize, 1024);
  const set = await f.driver.getInterfaceDescriptorSet(0, 'full');
  assert.equal([...set.descriptors.subarray(0, 9)], [9, 4, 0, 0, 2, 0xff, 0, 0, 1]);
  await f.close();
});

test.run();
