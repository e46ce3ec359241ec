#!/usr/bin/env bash
# Prepares everything the end-to-end VM needs, idempotently, into $VM (default .vm/, gitignored):
#   - apt packages: qemu-system-x86 (no recommends), busybox-static, libusb-1.0-0-dev, gcc
#   - Debian's kernel package (resolved from linux-image-amd64), downloaded and unpacked, never
#     installed: vmlinuz plus the few modules the VM loads
#   - a busybox initramfs that mounts the host's / read-only over 9p and switches into it
#   - the C programs (libusb host checks, the C AIO reference gadget) built with cc
# The apt install runs while the kernel is fetched and the usbfn programs are bundled; the
# bundles and the C programs build in parallel. Each phase logs its time ("+<s>s").
# Exit codes: 0 ready, 3 cannot run here (reason on stderr: the suite reports itself skipped),
# anything else a real failure.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
VM=${USBFN_E2E_CACHE:-$ROOT/.vm}
mkdir -p "$VM"
log() { echo "e2e-setup: +${SECONDS}s $*" >&2; }
skip() { log "SKIP: $*"; exit 3; }

need_pkgs=()
command -v qemu-system-x86_64 >/dev/null || need_pkgs+=(qemu-system-x86)
[[ -x /bin/busybox ]] || need_pkgs+=(busybox-static)
[[ -f /usr/include/libusb-1.0/libusb.h ]] || need_pkgs+=(libusb-1.0-0-dev)
command -v cc >/dev/null || need_pkgs+=(gcc libc6-dev)
# Another process may hold apt's lock (a shared machine): wait for it rather than fail.
APT=(apt-get -qq -o DPkg::Lock::Timeout=300)
# apt-get update once, and only when needed: package lists already there usually suffice
# (it costs ~30 s here); a failed resolution or download below updates and retries.
apt_update() {
  [[ -f $VM/apt-updated ]] && return 0
  [[ $(id -u) == 0 ]] || skip "not root: cannot apt-get update / install"
  log "apt-get update"
  "${APT[@]}" update >/dev/null 2>&1 || skip "apt-get update failed (no network to Debian's archive?)"
  touch "$VM/apt-updated"
}
install_packages() {
  if ! apt-cache show "${need_pkgs[@]}" >/dev/null 2>&1; then apt_update; fi
  log "installing ${need_pkgs[*]}"
  [[ $(id -u) == 0 ]] || skip "not root: cannot apt-get install ${need_pkgs[*]}"
  install() { DEBIAN_FRONTEND=noninteractive "${APT[@]}" install -y --no-install-recommends "${need_pkgs[@]}" >/dev/null 2>&1; }
  install || { apt_update; install; } || skip "could not install ${need_pkgs[*]}"
  log "installed"
}
# The install runs in the background while the kernel is fetched and the usbfn programs are
# bundled (neither needs what it installs); apt_wait joins it, passing on its skip or failure.
apt_pid=
if [[ ${#need_pkgs[@]} -gt 0 ]]; then install_packages & apt_pid=$!; fi
# leaving early (a skip, a failure) still waits for the install: never an orphaned dpkg
trap '[[ -z $apt_pid ]] || wait "$apt_pid" 2>/dev/null' EXIT
apt_wait() {
  [[ -n $apt_pid ]] || return 0
  local rc=0; wait "$apt_pid" || rc=$?
  apt_pid=
  [[ $rc -eq 0 ]] || exit "$rc"
}

# --- the kernel: Debian's current one, resolved from the metapackage (test/e2e/kernel.sh)
# (cdc-acm.ko came later: a cache without it is rebuilt)
kernel_fresh=0
if [[ ! -f $VM/vmlinuz || ! -f $VM/modules/dummy_hcd.ko || ! -f $VM/modules/cdc-acm.ko ]]; then
  kernel_fresh=1
  # exit 4: stale package lists (the archive keeps only the latest kernel): update, then again
  bash "$ROOT/test/e2e/kernel.sh" "$VM" || { rc=$?; [[ $rc -eq 4 ]] || exit $rc; apt_wait; apt_update; bash "$ROOT/test/e2e/kernel.sh" "$VM"; } \
    || { rc=$?; [[ $rc -eq 4 ]] && skip "cannot resolve or download Debian's kernel package"; exit $rc; }
fi

# --- the usbfn gadget, bundled into one file: under TCG, tsx compiling lib/ at every start
# would take the guest minutes (esbuild comes with tsx); koffi stays a real module
# (the serial scenario's gadget and the usbfn CLI the same way)
bundle() { # bundle <entry .ts> <output .mjs>
  if [[ ! -f $2 ]] || [[ -n $(find "$ROOT/lib" "$ROOT/test/contract" "$ROOT/test/e2e" "$1" -newer "$2" -name '*.ts' | head -1) ]]; then
    "$ROOT/node_modules/.bin/esbuild" "$1" --bundle --platform=node --format=esm --target=node20 \
      --external:koffi --log-level=warning --outfile="$2" \
      --banner:js="import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" || { log "bundling $1 failed"; exit 1; }
  fi
}
# in_parallel <command...>: started in the background; joined by all_done, which fails when any did
jobs_started=()
in_parallel() { "$@" & jobs_started+=($!); }
all_done() {
  local pid failed=0
  for pid in "${jobs_started[@]}"; do wait "$pid" || failed=1; done
  jobs_started=()
  [[ $failed == 0 ]] || { log "$1 failed"; exit 1; }
}
E2E=$ROOT/test/e2e
if [[ -d $ROOT/lib/driver/functionfs ]]; then
  in_parallel bundle "$E2E/usbfn-gadget.ts" "$VM/usbfn-gadget.mjs"
  in_parallel bundle "$E2E/serial-gadget.ts" "$VM/serial-gadget.mjs"
  in_parallel bundle "$E2E/ffs-contract.ts" "$VM/ffs-contract.mjs"  # the driver contract suite, on FunctionFS
  in_parallel bundle "$ROOT/examples/echo-device.ts" "$VM/echo-device.mjs"  # the example device, unchanged
  [[ -f $ROOT/lib/cli/main.ts ]] && in_parallel bundle "$ROOT/lib/cli/main.ts" "$VM/usbfn-cli.mjs"
  all_done "bundling"
fi
log "bundled"
apt_wait
command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 missing after install"
if [[ $kernel_fresh == 1 || ! -f $VM/initramfs.cpio.gz ]]; then bash "$ROOT/test/e2e/initramfs.sh" "$VM"; fi

# --- the C programs, rebuilt when any of their sources changed
build() { # build <output> <flags> <sources...>
  local out=$1 flags=$2 newer=0 src; shift 2
  for src in "$@" "${@%.c}.h"; do [[ -f $src && $src -nt $out ]] && newer=1; done
  [[ -x $out && $newer == 0 ]] && return 0
  # shellcheck disable=SC2086
  cc -O2 -Wall -Wextra -o "$out" "$@" $flags
}
mkdir -p "$VM/bin"
in_parallel build "$VM/bin/usb-host-checks" -lusb-1.0 "$E2E/host-checks.c" "$E2E/host-basic.c" "$E2E/host-resilience.c" "$E2E/host-demo.c" "$E2E/host-device.c"
in_parallel build "$VM/bin/usb-host-peer" "-lusb-1.0 -pthread" "$E2E/host-peer.c" "$E2E/host-device.c"
in_parallel build "$VM/bin/ffs-aio-gadget" -pthread "$ROOT/benchmarks/ffs-aio-gadget.c"
in_parallel build "$VM/bin/usb-host-bench" -lusb-1.0 "$ROOT/benchmarks/usb-host-bench.c" "$E2E/host-device.c"
all_done "building the C programs"
log "C programs built"
log "ready: $(cat "$VM/kernel-package"), qemu $(qemu-system-x86_64 --version | head -1 | awk '{print $4}')"
