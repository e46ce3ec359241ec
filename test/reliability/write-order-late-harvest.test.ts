/**
 * Defect (issue 11, item 1, koffi path): write order across a re-enumeration the device learns of
 * late. Through koffi, completions reach JavaScript through the completion port, and under load
 * the soak saw them harvested 90 ms after the driver posted them: op 0's success, then the
 * cancellations of ops 1-7 by an unconfigure, arrived after the host had configured again. The
 * emulator's loss fence (no data transfer until the device has taken in the loss) was lifted by
 * the first BUS_EVENT_NOTIFICATION re-issued after the loss, which came from a notification slot
 * harvesting an *older* event; op 0's late success then sent write 8 into the new session ahead
 * of the re-sent 1-7 (the host read 0,8,9,1,...).
 *
 * Here the stand-in's completion thread holds each packet 60 ms: a suspend and resume complete
 * two notification slots, the host reads byte 0, unconfigures, and configures 15 ms later (a
 * real host's minimum), all before the device harvests anything.
 */
import { test } from 'uvu';
import { BULK_IN } from '../stream/helpers.js';
import { assertInOrder, oneByteWritesInFlight, readThroughFaults } from './order.js';
import { standinTest } from './late-harvest.js';

const HARVEST_LAG_US = 60_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

standinTest('ten 1-byte writes through an unconfigure the device harvests late reach the host once each, in order', async (s, standin) => {
  const writer = await oneByteWritesInFlight(s, 10);
  standin.setCompletionDelay(HARVEST_LAG_US);
  const got: number[] = [];
  try {
    s.host.suspend(); // two notification slots complete before the loss...
    s.host.resume();
    got.push(...(await s.host.bulkIn(BULK_IN, 64))); // ...then write 0's success...
    s.host.unconfigure(); // ...then the cancellations of 1-7 and the loss
    await sleep(15);
    s.host.configure(1);
  } finally {
    standin.setCompletionDelay(0); // the packets already queued keep their order
  }
  await readThroughFaults(s, got, 10);
  await assertInOrder(got, 10, writer);
});

/*
 * The 700 s koffi soak (seed 20261206, trace of its replay): a reset cancelled nothing (the host
 * had read every write in flight, the device had not harvested it yet), so nothing fenced. Writes
 * the device sent on those late successes while the bus was down were refused; one it sent on a
 * later success, after the host had configured again, went out ahead of their re-sends.
 */
standinTest('writes refused while the bus is down, sent on completions harvested late, keep their order', async (s, standin) => {
  const writer = await oneByteWritesInFlight(s, 12);
  standin.setCompletionDelay(HARVEST_LAG_US);
  const got: number[] = [];
  try {
    while (got.length < 8) got.push(...(await s.host.bulkIn(BULK_IN, 64))); // all eight taken, none harvested
    s.host.reset('high'); // cancels nothing; write 8, sent on write 0's success, is refused
    await sleep(90); // write 0's success (60 ms) is harvested while the bus is down
    s.host.configure(1); // write 9, sent on write 1's success (120 ms), reaches this session
  } finally {
    standin.setCompletionDelay(0);
  }
  await readThroughFaults(s, got, 12);
  await assertInOrder(got, 12, writer);
});

test.run();
