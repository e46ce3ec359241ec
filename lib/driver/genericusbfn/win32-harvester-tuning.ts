/**
 * The tuning of the completion port's harvester (win32-completion.ts) and the measurements its
 * defaults come from.
 *
 * Measured with `npx tsx benchmarks/koffi-vs-direct.ts --sweep harvester` (koffi →
 * stand-in → emulator, 8 TRANSFER_OUTs outstanding, 5 fresh processes, median (min..max)
 * transfers/s at 512 B | 16 KiB, 2 vCPUs):
 *   batch 1, block again after each      23.4k (18.4–28.7k) | 25.4k (21.0–27.9k)
 *   batch 64, block again after each     34.8k (31.5–42.8k) | 34.5k (32.2–40.0k)
 *   + synchronous drain after each batch 33.7k (30.1–43.4k) | 31.3k (31.0–36.8k)
 *   batch 64, poll 1 turn then block     41.4k (34.8–51.3k) | 34.1k (31.9–40.3k)
 *   batch 64, poll 2 turns then block    54.1k (40.1–58.5k) | 38.3k (36.8–39.7k)  ← default
 *   batch 64, poll 4 turns then block    41.6k (38.8–43.8k) | 36.1k (32.3–39.5k)
 *   batch 16, poll 2 turns               42.5k (41.8–46.1k) | 45.3k (35.7–56.5k)
 *   10 ms timeout instead of INFINITE    42.2k (40.8–43.1k) | 44.7k (36.9–58.6k)
 * A batch beats one entry per call; the blocked call's round trip through a libuv thread (tens of
 * µs here) is what costs, so while completions keep coming the harvester polls the port on the
 * next event-loop turns with a synchronous zero-timeout call (0.4 µs) and blocks again only after
 * two empty polls: idle, it costs nothing. Batch 16 vs 64 and a timeout vs INFINITE are within
 * the noise. The drain (poll until empty right after a batch) finds nothing new and is off by
 * default.
 */

/**
 * The longest the blocked call waits (see win32-completion.ts: bounds worker.terminate() with a
 * device open): one wake a second while idle, not the 100 of a 10 ms timeout.
 */
const WAKE_INTERVAL_MS = 1000;

/** Tuning of the harvester (the benchmark compares these; the defaults are the measured best). */
export interface HarvesterOptions {
  /** OVERLAPPED_ENTRY slots per GetQueuedCompletionStatusEx call. */
  batch?: number;
  /** How long the blocked call waits before returning empty: INFINITE waits for a packet. */
  timeoutMs?: number;
  /** With `poll` 0: after each batch, poll the port synchronously (zero timeout) until empty. */
  drain?: boolean;
  /**
   * While completions keep coming, poll once per event-loop turn instead of blocking again;
   * block after this many empty polls in a row (0: never poll).
   */
  poll?: number;
}

const DEFAULTS: Required<HarvesterOptions> = { batch: 64, timeoutMs: WAKE_INTERVAL_MS, drain: false, poll: 2 };
let options: Required<HarvesterOptions> = { ...DEFAULTS };

/** Sets the harvester tuning for ports created from now on (benchmarks, tests). */
export function configureHarvester(next: HarvesterOptions): void {
  options = { ...DEFAULTS, ...next };
}

/** The tuning a port created now takes: the defaults, or the last configureHarvester(). */
export function harvesterOptions(): Required<HarvesterOptions> {
  return options;
}
