#!/bin/sh
# Sourced by test/e2e/guest.sh for USBFN_E2E_PLAN=bench (see benchmarks/ffs-throughput.sh):
# the C AIO reference gadget and usbfn's BulkPipe on FunctionFS (benchmarks/ffs-usbfn-gadget.ts)
# side by side in one boot, same queue depth and transfer size, both directions, at high speed,
# in alternation so a load change on the shared host hits both (bench.rounds times).
# Results in $OUT/bench: "bench ..." lines (the host's figure) each followed by a "cpu ..." line
# (the gadget process's own CPU time over the timed part, and how busy the guest's CPUs were).
# bench.gadgets=c-aio,usbfn,usbfn-lend,usbfn-swap,usbfn-raw,usbfn-iterate,usbfn-env,usbfn-hwm1,base,base-lend,base-raw
# and bench.dirs=out,in
# pick what runs (see benchmarks/ffs-throughput.sh);
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
# bench.warmup MiB move untimed first (default 0): V8 compiling the hot path under TCG costs
# seconds of CPU, a one-off a long-running gadget does not pay per transfer
WARMUP=$(param bench.warmup); WARMUP=${WARMUP:-0}
# "name:ms ..." of each thread of process $1 (user + system), with bench.threads=1: which of
# node's threads (main, V8 workers, libuv pool) the gadget's CPU time goes to
THREADS=$(param bench.threads)
# bench.nodeenv=NAME=value,NAME=value: the environment of gadget usbfn-env's node (e.g. glibc's
# MALLOC_* tunables), against plain usbfn in the same boot
NODE_ENV_VARS=$(param bench.nodeenv | tr , ' ')
thread_ms() { for t in /proc/$1/task/*; do printf '%s:%s ' "$(tr ' ' _ < "$t/comm")" "$(awk '{ print ($14 + $15) * 10 }' "$t/stat")"; done; }
# bench_one <label> <out|in> <gadget command...>; returns 1 when the kernel never returned from
# the unbind after the run (a "stuck" line in the results; nothing after it can be trusted)
bench_one() {
  label=$1; dir=$2; shift 2
  load_hcd high
  if start_gadget "$@" && bind; then
    pid=$(cat /tmp/gadget.pid)
    [ "$THREADS" = 1 ] && echo "threads-before $label $dir $(thread_ms "$pid")" >> "$OUT/bench"
    # the host times (and samples the gadget's CPU over) the MIB after the WARMUP MiB
    timeout 180 "$CACHE/bin/usb-host-bench" "$label" "$dir" "$MIB" "$DEPTH" "$BYTES" "$WARMUP" "$pid" | tee -a "$OUT/bench"
    [ "$THREADS" = 1 ] && echo "threads-after $label $dir $(thread_ms "$pid")" >> "$OUT/bench"
  else
    echo "bench $label $dir FAILED to start" | tee -a "$OUT/bench"
  fi
  if [ -n "$NODE_PROF" ] && [ "$label" != c-aio ]; then  # let node write its profile
    pid=$(cat /tmp/gadget.pid); kill -TERM "$pid"
    wait_gone "$pid" 30
  fi
  if ! unbind; then
    echo "stuck $label $dir: the kernel did not return from the UDC unbind after this run (see stuck.log)" | tee -a "$OUT/bench"
    return 1
  fi
  stop_gadget
  return 0
}
READPATH=$(param bench.readpath)
if [ -n "$READPATH" ]; then
  say "read path, $READPATH transfers"
  node "$CACHE/ffs-read-path.mjs" "$READPATH" "$BYTES" "$DEPTH" 2>&1 | sed 's/^/readpath /' | tee -a "$OUT/bench"
fi
# rotate <n> <words...>: the words, the first moved to the end n times
rotate() { n=$1; shift; while [ "$n" -gt 0 ] && [ $# -gt 1 ]; do w=$1; shift; set -- "$@" "$w"; n=$((n - 1)); done; echo "$@"; }
# Each round runs the C reference first (each usbfn run is paired with it) and the usbfn variants
# in a rotated order: the first node process after the C run has been seen to start and run
# slower (up to 2x its CPU), which a fixed order would charge to the same variant every round.
VARIANTS=$(echo $GADGETS | tr ' ' '\n' | grep -v '^c-aio$' | tr '\n' ' ')
REFERENCE=$(echo " $GADGETS " | grep -q ' c-aio ' && echo c-aio)
for round in $(seq "$ROUNDS"); do
  for dir in $DIRS; do
    mode=sink; [ $dir = in ] && mode=source
    # shellcheck disable=SC2086
    for gadget in $REFERENCE $(rotate $((round - 1)) $VARIANTS); do
      case $gadget in
        c-aio) bench_one c-aio $dir "$CACHE/bin/ffs-aio-gadget" $FFS $mode "$DEPTH" "$BYTES" /tmp/gadget.ready || break 3 ;;
        usbfn|usbfn-lend|usbfn-swap|usbfn-raw|usbfn-iterate|usbfn-env|usbfn-hwm1|base|base-lend|base-raw)
          how=${gadget#usbfn-}; vars=; bundle=ffs-usbfn-gadget.mjs
          case $gadget in base*) bundle=ffs-usbfn-gadget-base.mjs; how=${gadget#base}; how=${how#-} ;; esac
          case $how in usbfn|'') how=copy ;; env) how=copy; vars=$NODE_ENV_VARS ;; esac
          [ $dir = in ] && [ $how != copy ] && [ $how != hwm1 ] && [ $how != raw ] && continue  # the IN side does not differ
          [ $dir = out ] && [ $how = hwm1 ] && continue  # an IN-side variant
          # shellcheck disable=SC2086
          bench_one "$gadget" $dir env $vars node $NODE_PROF "$CACHE/$bundle" $FFS /tmp/gadget.ready $mode "$DEPTH" "$BYTES" $how || break 3 ;;
      esac
    done
  done
done
