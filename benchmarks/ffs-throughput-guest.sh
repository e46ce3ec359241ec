#!/bin/sh
# Sourced by test/e2e/guest.sh for USBFN_E2E_PLAN=bench (see benchmarks/ffs-throughput.sh):
# the C AIO reference gadget and usbfn's BulkPipe on FunctionFS (benchmarks/ffs-usbfn-gadget.ts)
# side by side in one boot, same queue depth and transfer size, both directions, at high speed,
# in alternation so a load change on the shared host hits both (bench.rounds times).
# Results in $OUT/bench: "bench ..." lines (the host's figure) each followed by a "cpu ..." line
# (the gadget process's own CPU time over the run, and how busy the guest's CPUs were).
# bench.gadgets=c-aio,usbfn,usbfn-lend,usbfn-iterate and bench.dirs=out,in pick what runs;
# bench.prof=1 runs usbfn's node with --cpu-prof (bench.profinterval µs, default 5000), the
# profiles in $OUT/prof/ (the gadget is stopped with SIGTERM so that node writes them).
DEPTH=$(param bench.depth); DEPTH=${DEPTH:-8}
BYTES=$(param bench.bytes); BYTES=${BYTES:-262144}
MIB=$(param bench.mib); MIB=${MIB:-128}
ROUNDS=$(param bench.rounds); ROUNDS=${ROUNDS:-1}
GADGETS=$(param bench.gadgets | tr , ' '); GADGETS=${GADGETS:-c-aio usbfn}
DIRS=$(param bench.dirs | tr , ' '); DIRS=${DIRS:-out in}
NODE_PROF=
[ "$(param bench.prof)" = 1 ] && mkdir -p "$OUT/prof" && NODE_PROF="--cpu-prof --cpu-prof-interval=$(param bench.profinterval | grep . || echo 5000) --cpu-prof-dir=$OUT/prof"
# CPU time (USER_HZ ticks, 10 ms) of process $1, user + system: what the gadget itself costs
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# "<busy> <total>" ticks of all CPUs since boot
cpu_ticks() { awk '/^cpu / { t = 0; for (i = 2; i <= NF; i++) t += $i; print t - $5 - $6, t }' /proc/stat; }
bench_one() { # bench_one <label> <out|in> <gadget command...>
  label=$1; dir=$2; shift 2
  load_hcd high
  if start_gadget "$@" && bind; then
    pid=$(cat /tmp/gadget.pid); t0=$(ticks "$pid"); s0=$(cpu_ticks)
    timeout 120 "$CACHE/bin/usb-host-bench" "$label" "$dir" "$MIB" "$DEPTH" "$BYTES" | tee -a "$OUT/bench"
    t1=$(ticks "$pid"); s1=$(cpu_ticks)
    echo "cpu $label $dir gadget $(( (t1 - t0) * 10 )) ms for $MIB MiB, guest busy $(( 100 * (${s1% *} - ${s0% *}) / (${s1#* } - ${s0#* } + 1) ))%" | tee -a "$OUT/bench"
  else
    echo "bench $label $dir FAILED to start" | tee -a "$OUT/bench"
  fi
  if [ -n "$NODE_PROF" ] && [ "$label" != c-aio ]; then  # let node write its profile
    pid=$(cat /tmp/gadget.pid); kill -TERM "$pid"
    n=0; while kill -0 "$pid" 2>/dev/null && [ $n -lt 300 ]; do sleep 0.1; n=$((n + 1)); done
  fi
  unbind; stop_gadget
}
for round in $(seq "$ROUNDS"); do
  for dir in $DIRS; do
    mode=sink; [ $dir = in ] && mode=source
    for gadget in $GADGETS; do
      case $gadget in
        c-aio) bench_one c-aio $dir "$CACHE/bin/ffs-aio-gadget" $FFS $mode "$DEPTH" "$BYTES" /tmp/gadget.ready ;;
        usbfn|usbfn-lend|usbfn-iterate)
          how=${gadget#usbfn-}; [ "$how" = usbfn ] && how=copy
          [ $dir = in ] && [ $how != copy ] && continue  # the IN side does not differ
          # shellcheck disable=SC2086
          bench_one "$gadget" $dir node $NODE_PROF "$CACHE/ffs-usbfn-gadget.mjs" $FFS /tmp/gadget.ready $mode "$DEPTH" "$BYTES" $how ;;
      esac
    done
  done
done
