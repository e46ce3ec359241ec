import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DECODER_TARGETS } from './decoder-targets.js';
import { fuzzTarget } from './fuzz-check.js';
import { fuzzIterations, fuzzSeed } from './prng.js';

// A short run of the long fuzzer (npm run fuzz) on every decoder, with a fresh seed each time:
// a finding prints the seed and the input, and USBFN_FUZZ_SEED replays it.
const seed = fuzzSeed();
const iterations = fuzzIterations(3000);

for (const target of DECODER_TARGETS) {
  test(`fuzz: ${target.name} throws only CodecError and reads only its own bytes (seed ${seed})`, () => {
    const report = fuzzTarget(target, seed, iterations);
    assert.equal(report.findings, [], `seed ${seed}: ${JSON.stringify(report.findings, null, 1)}`);
    assert.is(report.iterations, iterations);
    assert.ok(report.rejected > 0, 'mutations never produced a malformed input: the fuzzer is not reaching the checks');
  });
}

test.run();
