#!/usr/bin/env bash
# Prepares everything the end-to-end VM needs, idempotently, into $VM (default .vm/, gitignored):
#   - apt packages: qemu-system-x86 (no recommends), busybox-static, libusb-1.0-0-dev, gcc
#   - Debian's kernel package (resolved from linux-image-amd64), downloaded and unpacked, never
#     installed: vmlinuz plus the few modules the VM loads
#   - a busybox initramfs that mounts the host's / read-only over 9p and switches into it
#   - the C programs (libusb host checks, the C AIO reference gadget) built with cc
# Exit codes: 0 ready, 3 cannot run here (reason on stderr: the suite reports itself skipped),
# anything else a real failure.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
VM=${USBFN_E2E_CACHE:-$ROOT/.vm}
mkdir -p "$VM"
log() { echo "e2e-setup: $*" >&2; }
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
if [[ ${#need_pkgs[@]} -gt 0 ]] && ! apt-cache show "${need_pkgs[@]}" >/dev/null 2>&1; then apt_update; fi
if [[ ${#need_pkgs[@]} -gt 0 ]]; then
  log "installing ${need_pkgs[*]}"
  [[ $(id -u) == 0 ]] || skip "not root: cannot apt-get install ${need_pkgs[*]}"
  install() { DEBIAN_FRONTEND=noninteractive "${APT[@]}" install -y --no-install-recommends "${need_pkgs[@]}" >/dev/null 2>&1; }
  install || { apt_update; install; } || skip "could not install ${need_pkgs[*]}"
fi
command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 missing after install"

# --- the kernel: Debian's current one, resolved from the metapackage (the archive keeps only it)
# (cdc-acm.ko came later: a cache without it is rebuilt)
if [[ ! -f $VM/vmlinuz || ! -f $VM/initramfs.cpio.gz || ! -f $VM/modules/dummy_hcd.ko || ! -f $VM/modules/cdc-acm.ko ]]; then
  resolve() { apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }'; }
  kpkg=$(resolve)
  [[ -n $kpkg ]] || { apt_update; kpkg=$(resolve); }
  [[ -n $kpkg ]] || skip "apt-cache cannot resolve linux-image-amd64"
  kver=${kpkg#linux-image-}
  log "kernel package $kpkg"
  rm -rf "$VM/deb" "$VM/kroot" && mkdir -p "$VM/deb"
  download() { (cd "$VM/deb" && "${APT[@]}" download "$kpkg" >/dev/null 2>&1); }
  # stale lists name a kernel the archive no longer has (it keeps only the latest): update, retry
  download || { apt_update; kpkg=$(resolve); kver=${kpkg#linux-image-}; download; } || skip "apt-get download $kpkg failed"
  dpkg-deb -x "$VM"/deb/"${kpkg}"_*.deb "$VM/kroot"
  kmods=$VM/kroot/lib/modules/$kver
  busybox depmod -b "$VM/kroot" "$kver"  # the package ships no modules.dep (made at install)
  for opt in USB_DUMMY_HCD USB_LIBCOMPOSITE USB_F_FS USB_ACM CONFIGFS_FS 9P_FS NET_9P_VIRTIO; do
    grep -qE "^CONFIG_$opt=[ym]" "$VM/kroot/boot/config-$kver" || skip "$kpkg lacks CONFIG_$opt"
  done
  # Every module the guest loads, with its dependencies, in load order, flat in $VM/modules.
  rm -rf "$VM/modules" && mkdir -p "$VM/modules"
  : > "$VM/modules/order"
  # cdc-acm (module cdc_acm): the host serial driver the serial scenario must bind with no new_id
  for m in virtio_pci 9pnet_virtio 9p configfs dummy_hcd libcomposite usb_f_fs cdc-acm; do
    deps=$(awk -v m="/$m.ko" 'index($1, m ":") { $1 = substr($1, 1, length($1) - 1); for (i = NF; i >= 1; i--) print $i }' \
      <(sed -E 's/\.ko\.xz/.ko/g' "$kmods/modules.dep"))
    [[ -n $deps ]] || skip "module $m not found in $kpkg"
    for d in $deps; do
      name=$(basename "$d")
      grep -qx "$name" "$VM/modules/order" && continue
      src=$kmods/$d; [[ -f $src ]] || { xz -dc "$src.xz" > "$VM/modules/$name"; echo "$name" >> "$VM/modules/order"; continue; }
      cp "$src" "$VM/modules/$name"; echo "$name" >> "$VM/modules/order"
    done
  done
  cp "$VM/kroot/boot/vmlinuz-$kver" "$VM/vmlinuz"
  echo "$kpkg" > "$VM/kernel-package"
  rm -rf "$VM/kroot" "$VM/deb"
  bash "$ROOT/test/e2e/initramfs.sh" "$VM"
fi

# --- the C programs, rebuilt when any of their sources changed
build() { # build <output> <flags> <sources...>
  local out=$1 flags=$2 newer=0 src; shift 2
  for src in "$@" "${@%.c}.h"; do [[ -f $src && $src -nt $out ]] && newer=1; done
  [[ -x $out && $newer == 0 ]] && return 0
  # shellcheck disable=SC2086
  cc -O2 -Wall -Wextra -o "$out" "$@" $flags
}
mkdir -p "$VM/bin"
E2E=$ROOT/test/e2e
build "$VM/bin/usb-host-checks" -lusb-1.0 "$E2E/host-checks.c" "$E2E/host-basic.c" "$E2E/host-resilience.c" "$E2E/host-demo.c" "$E2E/host-device.c"
build "$VM/bin/usb-host-peer" "-lusb-1.0 -pthread" "$E2E/host-peer.c" "$E2E/host-device.c"
build "$VM/bin/ffs-aio-gadget" -pthread "$ROOT/benchmarks/ffs-aio-gadget.c"
build "$VM/bin/usb-host-bench" -lusb-1.0 "$ROOT/benchmarks/usb-host-bench.c" "$E2E/host-device.c"
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
if [[ -d $ROOT/lib/driver/functionfs ]]; then
  bundle "$E2E/usbfn-gadget.ts" "$VM/usbfn-gadget.mjs"
  bundle "$E2E/serial-gadget.ts" "$VM/serial-gadget.mjs"
  bundle "$E2E/ffs-contract.ts" "$VM/ffs-contract.mjs"  # the driver contract suite, on FunctionFS
  bundle "$ROOT/examples/echo-device.ts" "$VM/echo-device.mjs"  # the example device, unchanged
  [[ -f $ROOT/lib/cli/main.ts ]] && bundle "$ROOT/lib/cli/main.ts" "$VM/usbfn-cli.mjs"
fi
log "ready: $(cat "$VM/kernel-package"), qemu $(qemu-system-x86_64 --version | head -1 | awk '{print $4}')"
