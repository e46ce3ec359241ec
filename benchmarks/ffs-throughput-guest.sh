#!/bin/sh
# Sourced by test/e2e/guest.sh for USBFN_E2E_PLAN=bench (see benchmarks/ffs-throughput.sh):
# the C AIO reference gadget and usbfn's BulkPipe on FunctionFS, side by side in one boot, same
# queue depth and transfer size, both directions, at high speed, in alternation so a load change
# on the shared host hits both (bench.rounds times; one usbfn start costs ~30 s under TCG). Results: "bench ..." lines in $OUT/bench.
DEPTH=$(param bench.depth); DEPTH=${DEPTH:-8}
BYTES=$(param bench.bytes); BYTES=${BYTES:-262144}
MIB=$(param bench.mib); MIB=${MIB:-128}
ROUNDS=$(param bench.rounds); ROUNDS=${ROUNDS:-1}
bench_one() { # bench_one <label> <out|in> <gadget command...>
  label=$1; dir=$2; shift 2
  load_hcd high
  if start_gadget "$@" && bind; then
    timeout 120 "$CACHE/bin/usb-host-bench" "$label" "$dir" "$MIB" "$DEPTH" "$BYTES" | tee -a "$OUT/bench"
  else
    echo "bench $label $dir FAILED to start" | tee -a "$OUT/bench"
  fi
  unbind; stop_gadget
}
for round in $(seq "$ROUNDS"); do
  for dir in out in; do
    mode=sink; [ $dir = in ] && mode=source
    bench_one c-aio $dir "$CACHE/bin/ffs-aio-gadget" $FFS $mode "$DEPTH" "$BYTES" /tmp/gadget.ready
    bench_one usbfn $dir node "$CACHE/usbfn-gadget.mjs" $FFS /tmp/gadget.ready $mode "$DEPTH" "$BYTES"
  done
done
