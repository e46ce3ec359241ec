#!/usr/bin/env bash
# Issue 8 item 3: bulk throughput through the Linux kernel's FunctionFS + dummy_hcd in the
# end-to-end VM, usbfn's BulkPipe (benchmarks/ffs-usbfn-gadget.ts, bundled into plain JavaScript
# here) against the C AIO reference gadget (benchmarks/ffs-aio-gadget.c) in the same boot, same
# queue depth and transfer size, host = libusb keeping DEPTH transfers in flight
# (benchmarks/usb-host-bench.c). TCG emulation: compare the two, not the absolute figures.
# Prints every run, then per direction and usbfn variant the median MiB/s of each side and the
# median of the per-round ratios (each usbfn run against the C run just before it), and the
# gadget processes' own CPU time per MiB (what the side costs, less hostage to the host's load).
#   bash benchmarks/ffs-throughput.sh   # BENCH_DEPTH=8 BENCH_BYTES=262144 BENCH_MIB=128 BENCH_ROUNDS=3
#   BENCH_WARMUP=32 (MiB moved untimed before the timed BENCH_MIB, by every gadget: the steady
#   state, without V8's one-off compilation of the hot path, seconds of CPU under TCG)
#   BENCH_GADGETS=c-aio,usbfn,usbfn-lend,usbfn-swap,usbfn-raw,usbfn-iterate  BENCH_DIRS=out,in  BENCH_PROF=1 (node --cpu-prof)
#   BENCH_READPATH=<transfers>: first runs benchmarks/ffs-read-path.ts in the guest (the read
#   path's CPU per transfer on /dev/zero under TCG, next to its native figures)
#   BENCH_BASE=<git revision>: gadgets base, base-lend, base-raw are usbfn, usbfn-lend, usbfn-raw as of that
#   revision (its lib/ and benchmarks/ bundled with today's node_modules): a change measured
#   against what it changes, in the same boot
#   BENCH_EXTRA="bench.profinterval=1000 bench.threads=1" (more kernel command-line parameters for
#   the guest; bench.threads=1 adds each gadget thread's CPU time, "threads-before/after" lines;
#   bench.nodeenv=MALLOC_TRIM_THRESHOLD_=67108864,... is the environment of gadget usbfn-env)
# usbfn: default BulkPipe (readBuffers 'copy'), 'data' events; usbfn-lend: readBuffers 'lend';
# usbfn-swap: readBuffers 'swap'; usbfn-raw: no stream, usbfn's AioQueue alone (the floor under it);
# usbfn-iterate: `for await` (OUT only: the IN side is the same for these three); usbfn-env:
# usbfn run with bench.nodeenv's environment (OUT only); usbfn-hwm1 (IN only): the source with
# writableHighWaterMark = one transfer (the default before it became writesInFlight transfers).
#   bash benchmarks/ffs-throughput.sh --quick   # CI: 1 round of 64 MiB, usbfn and C both ways; only a
#     gross regression fails (paired ratio under 10%); ends "N passed, N failed[, N skipped]"
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
QUICK=0
if [[ ${1:-} == --quick ]]; then QUICK=1; : "${BENCH_ROUNDS:=1}" "${BENCH_MIB:=64}"; fi
CACHE=${USBFN_E2E_CACHE:-$ROOT/.vm}
mkdir -p "$CACHE"
# bundle <entry .ts> <output .mjs>: plain JavaScript for the guest's node (koffi stays external)
bundle() {
  "$ROOT/node_modules/.bin/esbuild" "$1" --bundle --platform=node --format=esm --target=node20 --external:koffi \
    --log-level=warning --outfile="$2" \
    --banner:js="import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);"
}
bundle "$ROOT/benchmarks/ffs-usbfn-gadget.ts" "$CACHE/ffs-usbfn-gadget.mjs" || exit 1
if [[ -n ${BENCH_BASE:-} ]]; then
  base=$(mktemp -d)
  git -C "$ROOT" archive "$BENCH_BASE" lib native-defs benchmarks | tar -x -C "$base" || exit 1
  ln -s "$ROOT/node_modules" "$base/node_modules"
  bundle "$base/benchmarks/ffs-usbfn-gadget.ts" "$CACHE/ffs-usbfn-gadget-base.mjs" || exit 1
  rm -rf "$base"
fi
if [[ -n ${BENCH_READPATH:-} ]]; then  # benchmarks/ffs-read-path.ts in the guest first (its figures in the output)
  bundle "$ROOT/benchmarks/ffs-read-path.ts" "$CACHE/ffs-read-path.mjs" || exit 1
fi
export USBFN_E2E_PLAN=bench
# the guest reads its settings from the kernel command line
export USBFN_E2E_APPEND="bench.depth=${BENCH_DEPTH:-8} bench.bytes=${BENCH_BYTES:-262144} bench.mib=${BENCH_MIB:-128} bench.rounds=${BENCH_ROUNDS:-3} bench.gadgets=${BENCH_GADGETS:-c-aio,usbfn} bench.dirs=${BENCH_DIRS:-out,in} bench.prof=${BENCH_PROF:-0} bench.warmup=${BENCH_WARMUP:-0} bench.readpath=${BENCH_READPATH:-} ${BENCH_EXTRA:-}"
export USBFN_E2E_VM_TIMEOUT=${USBFN_E2E_VM_TIMEOUT:-900}
rm -f "$CACHE/out/bench"
e2e=$(bash "$ROOT/test/e2e/run.sh")
if [[ $e2e == *"1 skipped"* && ! -s $CACHE/out/bench ]]; then echo "$e2e" | grep -v '^bench'; exit 0; fi  # no VM here: run.sh said why
[[ -s $CACHE/out/bench ]] || { echo "no results (see $CACHE/console.log)"; [[ $QUICK == 1 ]] && echo "0 passed, 1 failed"; exit 1; }
if [[ $QUICK == 1 ]]; then node "$ROOT/benchmarks/ffs-throughput-summary.mjs" "$CACHE/out/bench" --floor 0.1; exit; fi
node "$ROOT/benchmarks/ffs-throughput-summary.mjs" "$CACHE/out/bench"
