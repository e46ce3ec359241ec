#!/bin/sh
# The end-to-end plan, run inside the VM as PID 1 (test/e2e/initramfs.sh switches root into
# it). Host checks print "ok ..." / "FAIL ..." lines into $OUT/results; run.sh counts them.
# Kernel command line: usbfn.cache=<.vm folder> usbfn.repo=<repository> usbfn.plan=test|bench
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

# One speed: reload dummy_hcd, start the gadget, bind, run the host checks, tear down.
# usage: at_speed <speed> <checks> <label> <gadget command...>
at_speed() {
  speed=$1; checks=$2; label=$3; shift 3
  load_hcd "$speed"
  if start_gadget "$@" && bind; then
    timeout 240 "$HOST" "$speed" $checks "$label" | sed -u "s/^\(ok\|FAIL\) /\1 [$label] /" | tee -a "$OUT/results"
  else
    echo "FAIL [$label] $speed: gadget did not come up (see gadget.log)" | tee -a "$OUT/results"
  fi
  unbind; stop_gadget
}

if [ "$PLAN" = resilience ]; then  # a quick loop while working on these checks
  at_speed high resilience "usbfn e2e reference" $C_GADGET
elif [ "$PLAN" = bench ]; then
  . "$REPO/benchmarks/ffs-throughput-guest.sh"
else
  for speed in high full super; do at_speed $speed basic "usbfn e2e reference" $C_GADGET; done
  at_speed high resilience "usbfn e2e reference" $C_GADGET
  if [ -f "$REPO/test/e2e/usbfn-gadget.ts" ] && [ -d "$REPO/lib/driver/functionfs" ]; then
    U_GADGET="node --import tsx $REPO/test/e2e/usbfn-gadget.ts $FFS /tmp/gadget.ready"
    for speed in high full super; do at_speed $speed basic "usbfn e2e" $U_GADGET; done
    at_speed high resilience "usbfn e2e" $U_GADGET
  fi
fi
say "plan done"
echo done > "$OUT/finished"
sync
busybox poweroff -f
