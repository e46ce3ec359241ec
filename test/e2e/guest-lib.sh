#!/bin/sh
# Gadget plumbing inside the end-to-end VM (sourced by guest.sh; also run as
# `sh guest-lib.sh rebind|restart` by the host checks to pull the link from under a stream).
# configfs gadget g1 with one FunctionFS function "e2e" mounted at /dev/ffs-e2e, bound to the
# dummy_hcd UDC. The gadget program's command line lives in /tmp/gadget.cmd, its pid in
# /tmp/gadget.pid, its log in $OUT/gadget.log.
G=/sys/kernel/config/usb_gadget/g1
FFS=/dev/ffs-e2e
# The root is the host's own filesystem, which may have no kmod: busybox has everything.
insmod() { busybox insmod "$@"; }
rmmod() { busybox rmmod "$@"; }
# Seconds since boot: deadlines count time, not loop turns (a loaded TCG guest runs slowly).
now() { cut -d. -f1 /proc/uptime; }
say() { echo "e2e-guest: T+$(cut -d' ' -f1 /proc/uptime) $*"; }

hcd_params() { case $1 in full) echo NN ;; super) echo YY ;; *) echo YN ;; esac; }
# Loads dummy_hcd for one speed: full, high or super (a reload is the only way to change it).
load_hcd() {
  if [ -d /sys/module/dummy_hcd ]; then
    [ "$(cat /sys/module/dummy_hcd/parameters/is_high_speed)$(cat /sys/module/dummy_hcd/parameters/is_super_speed)" = "$(hcd_params "$1")" ] && return 0
    rmmod dummy_hcd
  fi
  case $1 in
    full) insmod "$CACHE/modules/dummy_hcd.ko" is_high_speed=0 ;;
    super) insmod "$CACHE/modules/dummy_hcd.ko" is_super_speed=1 ;;
    *) insmod "$CACHE/modules/dummy_hcd.ko" ;;
  esac
}

create_gadget() {
  mount -t configfs none /sys/kernel/config 2>/dev/null
  mkdir -p $G/strings/0x409 $G/configs/c.1/strings/0x409 $G/functions/ffs.e2e
  echo 0x1d6b > $G/idVendor; echo 0x0104 > $G/idProduct
  echo usbfn > $G/strings/0x409/manufacturer; echo "usbfn e2e" > $G/strings/0x409/product
  echo e2e-0001 > $G/strings/0x409/serialnumber
  echo e2e > $G/configs/c.1/strings/0x409/configuration
  ln -s $G/functions/ffs.e2e $G/configs/c.1/ 2>/dev/null
  mkdir -p $FFS && mount -t functionfs e2e $FFS
}

# Starts the gadget program (its arguments: the command) and waits until it wrote descriptors.
start_gadget() {
  echo "$*" > /tmp/gadget.cmd
  rm -f /tmp/gadget.ready
  "$@" >> "$OUT/gadget.log" 2>&1 &
  echo $! > /tmp/gadget.pid
  deadline=$(($(now) + 120))
  while [ ! -e /tmp/gadget.ready ]; do
    [ "$(now)" -gt $deadline ] && { say "gadget not ready after 120 s: $*"; return 1; }
    kill -0 "$(cat /tmp/gadget.pid)" 2>/dev/null || { say "gadget exited early: $*"; return 1; }
    sleep 0.1
  done
}

stop_gadget() {
  pid=$(cat /tmp/gadget.pid 2>/dev/null) || return 0
  kill -9 "$pid" 2>/dev/null
  while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
  rm -f /tmp/gadget.pid
}

# Binds to the (only) UDC and waits for the host to configure the device.
bind() {
  udc=$(ls /sys/class/udc | head -1)
  echo "$udc" > $G/UDC || { say "bind to $udc failed"; return 1; }
  deadline=$(($(now) + 60))
  while [ "$(cat /sys/class/udc/$udc/state)" != configured ]; do
    [ "$(now)" -gt $deadline ] && { say "not configured after 60 s"; return 1; }
    sleep 0.1
  done
  say "configured at $(cat /sys/class/udc/$udc/current_speed)"
}

unbind() { [ -n "$(cat $G/UDC 2>/dev/null)" ] && echo "" > $G/UDC; return 0; }

case "${1:-}" in
  rebind) CACHE=$2; OUT=$CACHE/out; unbind; sleep 0.5; bind ;;
  restart)
    CACHE=$2; OUT=$CACHE/out
    stop_gadget; say "gadget killed"
    sleep 0.5; unbind  # FunctionFS unbinds the gadget itself when ep0 closes; make sure
    start_gadget $(cat /tmp/gadget.cmd) && bind ;;
esac
