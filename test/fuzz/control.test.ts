import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { GenericUsbFnDriver, UsbFnDevice, UsbFnError, ErrorCodes, type SetupRequest } from '../../lib/index.js';
import { EmulatedGenericUsbFn } from '../../lib/driver/emulator/index.js';
import { Rng, fuzzIterations, fuzzSeed } from './prng.js';

// The public control path under random host requests and random (mis)answers from user code:
// every host transfer settles with data or a coded error, every answer promise settles with a
// coded error at worst, nothing rejects unhandled, and EP0 still works afterwards.
const seed = fuzzSeed();
const iterations = fuzzIterations(400, 0.01);
const CODES = new Set<string>(Object.values(ErrorCodes));

type Answer = (req: SetupRequest, rng: Rng) => unknown;

const deferredProblems: string[] = [];

/** Calls a late answer, recording anything but a coded error. */
function settled(answer: () => Promise<unknown>): void {
  const record = (err: unknown) => {
    const p = codedProblem('deferred answer', err);
    if (p) deferredProblems.push(p);
  };
  try {
    answer().catch(record);
  } catch (err) {
    record(err);
  }
}

const ANSWERS: Answer[] = [
  (req, rng) => req.respond(Buffer.from(rng.bytes(rng.below(req.wLength + 8))), { truncate: rng.chance(0.5) }),
  (req) => req.ack(),
  (req) => req.stall(),
  (req) => req.receive(),
  () => undefined, // unanswered: stalled at the end of the tick
  (req, rng) => {
    req.defer();
    // respond() throws synchronously for the wrong direction (documented); the rest rejects.
    setTimeout(() => settled(() => req.respond(Buffer.from(rng.bytes(Math.min(req.wLength, 64))))), rng.below(40));
  },
  (req) => {
    void req.ack();
    return req.stall(); // a second answer
  },
];

function randomSetup(rng: Rng) {
  const type = rng.pick([0, 1, 1, 2, 2]) << 5;
  const toHost = rng.chance(0.5) ? 0x80 : 0;
  const wLength = rng.pick([0, 1, 7, 63, 64, 65, rng.below(600)]);
  return { bmRequestType: toHost | type | rng.below(3), bRequest: rng.below(256), wValue: rng.below(0x10000), wIndex: rng.below(3), wLength };
}

/** Why `err` is not an acceptable failure, or null. */
function codedProblem(where: string, err: unknown): string | null {
  if (err instanceof UsbFnError && CODES.has(err.code)) return null;
  if (err instanceof UsbFnError) return `${where}: unknown code ${err.code}`;
  return `${where}: ${(err as Error)?.name ?? typeof err}: ${String((err as Error)?.message ?? err)}`;
}

test(`fuzz: random setup packets and random answers settle with data or coded errors (seed ${seed})`, async () => {
  const rng = new Rng(seed);
  const problems: string[] = [];
  const unhandled = (reason: unknown) => problems.push(`unhandled rejection: ${String(reason)}`);
  process.on('unhandledRejection', unhandled);
  const emulated = new EmulatedGenericUsbFn({ forwardVendorRequests: true });
  const device = await UsbFnDevice.open({ driver: new GenericUsbFnDriver(emulated) });
  device.control.on('answerError', (err) => problems.push(...[codedProblem('answerError', err)].filter((p): p is string => !!p)));
  device.control.on('handlerError', () => {});
  device.control.on('setup', (req) => {
    try {
      const result = rng.pick(ANSWERS)(req, rng);
      if (result instanceof Promise) result.catch((err) => {
        const p = codedProblem('answer', err);
        if (p) problems.push(p);
      });
    } catch (err) {
      const p = codedProblem('answer (sync)', err);
      if (p) problems.push(p);
    }
  });
  await emulated.host.enumerate({ speed: rng.pick(['full', 'high', 'super'] as const) });
  for (let i = 0; i < iterations && problems.length < 5; i++) {
    const setup = randomSetup(rng);
    const data = setup.bmRequestType & 0x80 ? undefined : rng.bytes(setup.wLength);
    await emulated.host.controlTransfer(setup, data, { timeoutMs: 20 + rng.below(60) }).catch((err) => {
      const p = codedProblem(`host request ${JSON.stringify(setup)}`, err);
      if (p) problems.push(p);
    });
  }
  device.control.removeAllListeners('setup');
  device.control.handle({ type: 'vendor', request: 0x42 }, () => Buffer.from('still fine'));
  // The bound is a hang guard for a loaded machine (the default 5 s was seen to run out in CI).
  const last = await emulated.host.controlTransfer({ bmRequestType: 0xc0, bRequest: 0x42, wValue: 0, wIndex: 0, wLength: 64 }, undefined, { timeoutMs: 30_000 });
  await device.close();
  await new Promise((r) => setImmediate(r));
  process.off('unhandledRejection', unhandled);
  assert.equal([...problems, ...deferredProblems], [], `seed ${seed}`);
  assert.is(Buffer.from(last).toString(), 'still fine');
});

test.run();
