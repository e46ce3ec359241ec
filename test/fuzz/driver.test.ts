import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { GenericUsbFnDriver } from '../../lib/driver/genericusbfn/index.js';
import { ErrorCodes, UsbFnError } from '../../lib/errors.js';
import { HostileIoctlDevice } from './hostile-device.js';
import { Rng, fuzzIterations, fuzzSeed } from './prng.js';
import type { BusSpeed } from '../../lib/driver/driver.js';

// GenericUsbFnDriver over a driver that lies: every public operation settles, resolves with values
// that fit the caller's buffer, or rejects with a UsbFnError whose code is one of the stable codes.
const seed = fuzzSeed();
const iterations = fuzzIterations(1500, 0.1);
const CODES = new Set<string>(Object.values(ErrorCodes));
const SPEEDS: BusSpeed[] = ['low', 'full', 'high', 'super'];

type Operation = (driver: GenericUsbFnDriver, rng: Rng) => Promise<unknown>;

const OPERATIONS: Record<string, Operation> = {
  getClassInfo: (d) => d.getClassInfo(),
  getClassInfoEx: (d) => d.getClassInfoEx(),
  activate: (d) => d.activate(),
  deactivate: (d) => d.deactivate(),
  nextBusEvent: (d) => d.nextBusEvent({ signal: AbortSignal.timeout(50) }),
  transferIn: (d, r) => d.transferIn(r.below(4), r.bytes(r.below(1100)), { zlp: r.chance(0.5) }),
  transferOut: async (d, r) => {
    const buffer = new Uint8Array(r.below(1100));
    const n = await d.transferOut(r.below(4), buffer);
    assert.ok(Number.isInteger(n) && n >= 0 && n <= buffer.length, `transferOut resolved ${n} for ${buffer.length} bytes`);
    return n;
  },
  getPipeState: async (d, r) => assert.type(await d.getPipeState(r.below(4)), 'boolean'),
  setPipeState: (d, r) => d.setPipeState(r.below(4), r.chance(0.5)),
  controlHandshakeIn: (d) => d.controlHandshakeIn(),
  controlHandshakeOut: (d) => d.controlHandshakeOut(),
  registerString: (d, r) => d.registerString(1 + r.below(255), 'x'.repeat(r.below(130))),
  getInterfaceDescriptorSet: async (d, r) => {
    const set = await d.getInterfaceDescriptorSet(r.below(2), r.pick(SPEEDS));
    assert.ok(set.descriptors instanceof Uint8Array && set.descriptors.length <= 0xffff);
    return set;
  },
};

/** Runs `operation` and returns what is wrong with how it settled, or null. */
async function settleProblem(name: string, operation: Promise<unknown>): Promise<string | null> {
  const hang = new Promise<string>((resolve) => setTimeout(resolve, 10_000, 'did not settle in 10 s').unref());
  const outcome = await Promise.race([operation.then(() => null, (err: unknown) => err ?? 'rejected with nothing'), hang]);
  if (outcome === null) return null;
  if (typeof outcome === 'string') return `${name} ${outcome}`;
  if (outcome instanceof assert.Assertion) return `${name}: ${outcome.message}`;
  if (!(outcome instanceof UsbFnError)) return `${name} rejected with ${(outcome as Error)?.name ?? typeof outcome}: ${String((outcome as Error)?.message ?? outcome)}`;
  if (!CODES.has(outcome.code)) return `${name} rejected with an unknown code ${outcome.code}`;
  return null;
}

test(`fuzz: every GenericUsbFnDriver operation on a lying driver settles with a value or a coded UsbFnError (seed ${seed})`, async () => {
  const rng = new Rng(seed);
  const names = Object.keys(OPERATIONS);
  const problems: string[] = [];
  let driver = new GenericUsbFnDriver(new HostileIoctlDevice(rng), { notificationDepth: 1 + rng.below(4) });
  for (let i = 0; i < iterations && problems.length < 5; i++) {
    if (rng.chance(0.02)) {
      problems.push(...[await settleProblem('close', driver.close())].filter((p): p is string => p !== null));
      driver = new GenericUsbFnDriver(new HostileIoctlDevice(rng), { notificationDepth: 1 + rng.below(4) });
    }
    const name = rng.pick(names);
    const problem = await settleProblem(name, OPERATIONS[name](driver, rng));
    if (problem) problems.push(`iteration ${i}: ${problem}`);
  }
  await driver.close();
  assert.equal(problems, [], `seed ${seed}`);
});

test(`fuzz: close() under a lying driver settles every pending operation (seed ${seed})`, async () => {
  const rng = new Rng(seed ^ 0x5a5a5a5a);
  for (let round = 0; round < Math.min(iterations / 10, 200); round++) {
    const driver = new GenericUsbFnDriver(new HostileIoctlDevice(rng));
    const names = Object.keys(OPERATIONS);
    const pending = Array.from({ length: 1 + rng.below(8) }, () => {
      const name = rng.pick(names);
      return settleProblem(name, OPERATIONS[name](driver, rng));
    });
    const closed = settleProblem('close', driver.close());
    const problems = (await Promise.all([...pending, closed])).filter((p) => p !== null);
    assert.equal(problems, [], `seed ${seed}, round ${round}`);
  }
});

test.run();
