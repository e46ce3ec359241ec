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
  say "gadget ready: $1 ${2##*/}"
}

# wait_gone <pid> <seconds>: waits for process <pid> to exit; 1 if it is still there after <seconds>
wait_gone() {
  gone_by=$(($(now) + $2))
  while kill -0 "$1" 2>/dev/null; do
    [ "$(now)" -gt $gone_by ] && return 1
    sleep 0.05
  done
  return 0
}

# Where processes $@ are stuck (each thread's state, wchan and kernel stack; the kernel's list of
# blocked tasks), to the console and $OUT/stuck.log.
stuck_report() {
  say "process $1 stuck in the kernel: see stuck.log"
  { for t in $(for p in "$@"; do echo /proc/$p/task/*; done); do
      echo "== $t $(cat $t/comm 2>/dev/null): $(grep State $t/status 2>/dev/null) wchan $(cat $t/wchan 2>/dev/null)"
      cat $t/stack 2>/dev/null
    done
    echo w > /proc/sysrq-trigger 2>/dev/null; sleep 0.5; dmesg | tail -150
  } > "$OUT/stuck.log" 2>&1
  cat "$OUT/stuck.log"
}

stop_gadget() {
  pid=$(cat /tmp/gadget.pid 2>/dev/null) || return 0
  # a wrapper (cli_serial) names the real gadget process in gadget.child
  for p in $(cat /tmp/gadget.child 2>/dev/null) "$pid"; do
    kill -9 "$p" 2>/dev/null
    # a process that does not die in 30 s is stuck in the kernel: say where, then go on
    wait_gone "$p" 30 || { say "gadget $p still alive 30 s after SIGKILL"; stuck_report "$p"; }
  done
  rm -f /tmp/gadget.pid /tmp/gadget.child
}

# `usbfn serial --ffs` bridged to stdin/stdout, both one FIFO: whatever the host writes comes
# back. The CLI writes no ready file: ready once FunctionFS has its descriptors (ep1 appears).
cli_serial() {
  rm -f /tmp/serial.loop; mkfifo /tmp/serial.loop
  n=0; while [ -e $FFS/ep1 ] && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done  # the last gadget's endpoints going
  node "$CACHE/usbfn-cli.mjs" serial --ffs $FFS --layout functionfs --json <>/tmp/serial.loop >/tmp/serial.loop 2>>/tmp/cli-events &
  child=$!; echo $child > /tmp/gadget.child
  while [ ! -e $FFS/ep1 ] && kill -0 $child 2>/dev/null; do sleep 0.1; done
  touch /tmp/gadget.ready; wait $child
}

# examples/echo-device.ts, unchanged (bundled), on the guest's mount (--mount: the guest binds)
# or with no option (usbfn creates its own configfs gadget and binds the first UDC, as the
# README's quick start does). Ready once it printed "echo-device: ready".
example_echo() {
  rm -f /tmp/example.out
  node "$CACHE/echo-device.mjs" "$@" > /tmp/example.out 2>&1 &
  child=$!; echo $child > /tmp/gadget.child
  until grep -q 'echo-device: ready' /tmp/example.out 2>/dev/null; do kill -0 $child 2>/dev/null || break; sleep 0.1; done
  grep -q 'echo-device: ready' /tmp/example.out && touch /tmp/gadget.ready
  wait $child; rc=$?
  cat /tmp/example.out; echo "example exited $rc"; return $rc
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

# The write to UDC runs aside so that a kernel that never returns from it is reported (where
# every task is blocked) instead of hanging the guest without a word.
unbind() {
  [ -n "$(cat $G/UDC 2>/dev/null)" ] || return 0
  echo "" > $G/UDC &
  writer=$!
  wait_gone $writer 30 && return 0
  say "unbind still blocked after 30 s"
  stuck_report $writer $(cat /tmp/gadget.pid 2>/dev/null)
  return 1
}

case "${1:-}" in
  cli-serial) CACHE=$2; cli_serial ;;
  example-echo) CACHE=$2; shift 2; example_echo "$@" ;;
  rebind) CACHE=$2; OUT=$CACHE/out; unbind; sleep 0.5; bind ;;
  restart)
    CACHE=$2; OUT=$CACHE/out
    stop_gadget; say "gadget killed"
    sleep 0.5; unbind  # FunctionFS unbinds the gadget itself when ep0 closes; make sure
    start_gadget $(cat /tmp/gadget.cmd) && bind ;;
esac
