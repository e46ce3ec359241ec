#!/bin/sh
# The end-to-end plan, run inside the VM as PID 1 (test/e2e/initramfs.sh switches root into
# it). Host checks print "ok ..." / "FAIL ..." lines into $OUT/results; run.sh counts them.
# Kernel command line: usbfn.cache=<.vm folder> usbfn.repo=<repository> usbfn.plan=test|usbfn|reference|bench|serial|contract
# (test and usbfn: the usbfn gadget, the driver contract suite, the example device, then the
# serial scenarios; reference: the C reference gadget; serial: the serial scenarios alone;
# contract: the contract suite and the example device alone)
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/tmp
param() { sed -n "s/.*$1=\([^ ]*\).*/\1/p" /proc/cmdline; }
CACHE=$(param usbfn.cache); REPO=$(param usbfn.repo); PLAN=$(param usbfn.plan)
OUT=$CACHE/out
. "$REPO/test/e2e/guest-lib.sh"
mkdir -p "$OUT"; : > "$OUT/results"; : > "$OUT/gadget.log"
C_GADGET="$CACHE/bin/ffs-aio-gadget $FFS echo 4 1114112 /tmp/gadget.ready"
HOST=$CACHE/bin/usb-host-checks
export E2E_REBIND="sh $REPO/test/e2e/guest-lib.sh rebind $CACHE"
export E2E_RESTART="sh $REPO/test/e2e/guest-lib.sh restart $CACHE"
say "guest script running (plan $PLAN)"
create_gadget
# usbfs refuses transfers beyond 16 MiB in flight by default; the kill check needs a bigger one
echo 256 > /sys/module/usbcore/parameters/usbfs_memory_mb

# One gadget program through every check: started once, it stays up while the UDC is unbound,
# dummy_hcd reloaded at another speed and bound again (a FunctionFS function survives that).
# usage: run_checks <label> "<speed:checks ...>" <gadget command...>
ALL_STEPS="high:basic full:basic super:basic high:resilience high:device-halt"
run_checks() {
  label=$1; steps=$2; shift 2
  load_hcd high
  start_gadget "$@" || { echo "FAIL [$label] gadget did not start (see gadget.log)" | tee -a "$OUT/results"; return; }
  for step in $steps; do
    speed=${step%:*}; checks=${step#*:}
    say "step [$label] $step"
    unbind; load_hcd "$speed"
    if bind; then
      timeout 240 "$HOST" "$speed" $checks "$label" | sed -u "s/^\(ok\|FAIL\) /\1 [$label] /" | tee -a "$OUT/results"
    else
      echo "FAIL [$label] $speed: the host never configured the device" | tee -a "$OUT/results"
    fi
  done
  unbind; stop_gadget
}

# The driver contract suite (test/contract/) on FunctionFS against this host stack
# (test/e2e/ffs-contract.ts): each case writes ok / FAIL / skip (with its reason) to the results.
run_contract() {
  say "step [ffs contract]"
  unbind; load_hcd high
  timeout 300 node "$CACHE/ffs-contract.mjs" $FFS $G "$CACHE/bin/usb-host-peer" "$OUT/results" high >> "$OUT/gadget.log" 2>&1
  [ $? -eq 124 ] && echo "FAIL [ffs contract] the suite did not finish within 300 s" | tee -a "$OUT/results"
  unbind
}

# examples/echo-device.ts unchanged, twice: on the guest's gadget (--mount, the guest binds), and
# with no option, as the README's quick start runs it: usbfn makes its own configfs gadget and
# binds the first UDC; SIGTERM then closes the device, which must take the gadget away again.
run_examples() {
  run_checks "example echo-device --mount" "high:demo" sh "$REPO/test/e2e/guest-lib.sh" example-echo "$CACHE" --mount $FFS
  label="example echo-device, its own gadget"
  say "step [$label]"
  unbind; load_hcd high
  start_gadget sh "$REPO/test/e2e/guest-lib.sh" example-echo "$CACHE" || { echo "FAIL [$label] did not start (see gadget.log)" | tee -a "$OUT/results"; stop_gadget; return; }
  udc=$(ls /sys/class/udc | head -1); deadline=$(($(now) + 60))
  until [ "$(cat /sys/class/udc/$udc/state)" = configured ] || [ "$(now)" -gt $deadline ]; do sleep 0.1; done
  timeout 240 "$HOST" high demo | sed -u "s/^\(ok\|FAIL\) /\1 [$label] /" | tee -a "$OUT/results"
  child=$(cat /tmp/gadget.child); kill -TERM "$child"
  if ! wait_gone "$child" 30 || [ -d /sys/kernel/config/usb_gadget/usbfn ]; then
    echo "FAIL [$label] SIGTERM: the device closed and its gadget left configfs: still there" | tee -a "$OUT/results"
  else echo "ok [$label] SIGTERM: the device closed and its gadget left configfs" | tee -a "$OUT/results"; fi
  stop_gadget
}

# The serial scenario: usbfn's CDC-ACM function on FunctionFS, the kernel's cdc_acm (loaded by
# the initramfs, bound with no new_id) and npm serialport on /dev/ttyACM0 (test/e2e/serial-host.mjs).
# usage: run_serial <label> <event log> <serial-state|no-serial-state> <echo bytes> <gadget command...>
# The gadget must touch /tmp/gadget.ready once its descriptors are written, or (the CLI, which
# has no ready file) the bind is retried until FunctionFS has them.
run_serial() {
  label=$1; events=$2; state=$3; bytes=$4; shift 4
  say "step [$label]"
  rm -f "$events"; load_hcd high
  start_gadget "$@" || { echo "FAIL [$label] gadget did not start (see gadget.log)" | tee -a "$OUT/results"; stop_gadget; return; }
  if bind; then
    timeout 420 node "$REPO/test/e2e/serial-host.mjs" "$events" "$bytes" "$state" 2>> "$OUT/gadget.log" \
      | sed -u "s/^\(ok\|FAIL\|note\) /\1 [$label] /" | tee -a "$OUT/results"
  else
    echo "FAIL [$label] the host never configured the device" | tee -a "$OUT/results"
  fi
  unbind; stop_gadget
}
# The serial function's volume check is the first scenario's 16 MiB (the README's figure); the
# CLI adds only its stdin/stdout bridge, which 2 MiB (16 times the host's 128 KiB window, 32
# times a FIFO's buffer) drives through backpressure many times over: 16 MiB through it took
# 85 s of the suite's 6 minutes under load.
serial_scenarios() {
  run_serial "serial" /tmp/serial-events serial-state $((16 * 1024 * 1024)) node "$CACHE/serial-gadget.mjs" $FFS /tmp/gadget.ready /tmp/serial-events
  [ -f "$CACHE/usbfn-cli.mjs" ] && run_serial "usbfn serial CLI" /tmp/cli-events no-serial-state $((2 * 1024 * 1024)) sh "$REPO/test/e2e/guest-lib.sh" cli-serial "$CACHE"
}

if [ "$PLAN" = bench ]; then
  . "$REPO/benchmarks/ffs-throughput-guest.sh"
else
  # The usbfn gadget goes through every step; the C reference (benchmarks/ffs-aio-gadget.c) is
  # the control, run with plan "reference" (or here when usbfn's FunctionFS backend is absent):
  # when it passes a check usbfn fails, the fault is usbfn's. Both in one run take more than
  # the suite's 6 minutes on a loaded machine, under TCG.
  if [ "$PLAN" = serial ]; then
    serial_scenarios
  elif [ "$PLAN" = contract ]; then
    run_contract
    run_examples
  elif [ "$PLAN" != reference ] && [ -f "$CACHE/usbfn-gadget.mjs" ]; then
    run_checks "usbfn e2e" "$ALL_STEPS" node "$CACHE/usbfn-gadget.mjs" $FFS /tmp/gadget.ready
    run_contract
    run_examples
    serial_scenarios
  else
    run_checks "usbfn e2e reference" "$ALL_STEPS" $C_GADGET
  fi
fi
say "plan done"
echo done > "$OUT/finished"
sync
busybox poweroff -f
