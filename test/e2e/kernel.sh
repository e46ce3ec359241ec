#!/usr/bin/env bash
# Fetches the kernel the end-to-end VM boots into $1 (test/e2e/setup.sh runs it, alongside the
# apt install): Debian's current kernel package, resolved from linux-image-amd64, downloaded and
# unpacked, never installed. Leaves $1/vmlinuz, $1/kernel-package and, flat in $1/modules, every
# module the guest loads with its dependencies, their load order in $1/modules/order.
# Only the folders those modules live in are unpacked (a tenth of the package: on a loaded
# machine writing all 400 MB took most of a minute), and dependencies come from each module's
# own "depends=" (no depmod, which would need busybox before apt has installed it).
# Exit codes: 0 done, 3 cannot run here (reason on stderr), 4 the package lists look stale
# (setup.sh runs apt-get update, then this again).
set -euo pipefail
VM=$1
log() { echo "e2e-setup: +${SECONDS}s $*" >&2; }
skip() { log "SKIP: $*"; exit 3; }
# The modules the guest loads (virtio 9p for the shared filesystems; the gadget stack; cdc-acm,
# the host serial driver the serial scenario must bind with no new_id)
WANTED=(virtio_pci 9pnet_virtio 9p configfs dummy_hcd libcomposite usb_f_fs cdc_acm)
SUBSET=('*/boot/vmlinuz-*' '*/boot/config-*' '*/kernel/drivers/usb/*' '*/kernel/drivers/virtio/*'
  '*/kernel/fs/*' '*/kernel/net/9p/*' '*/kernel/lib/*')

kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
[[ -n $kpkg ]] || exit 4
log "kernel package $kpkg"
rm -rf "$VM/deb" "$VM/kroot" && mkdir -p "$VM/deb" "$VM/kroot"
# the archive keeps only the latest kernel: a failed download means stale lists
(cd "$VM/deb" && apt-get -qq download "$kpkg" >/dev/null 2>&1) || exit 4
deb=$(ls "$VM"/deb/"${kpkg}"_*.deb)

unpack() { # unpack [patterns...]: the package's files (all of them with no pattern)
  rm -rf "$VM/kroot" && mkdir -p "$VM/kroot"
  dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$VM/kroot" --wildcards "$@" 2>/dev/null || [[ $# -gt 0 ]]
}
unpack "${SUBSET[@]}"
config=$(find "$VM/kroot" -path '*/boot/config-*' | head -1)
[[ -n $config ]] || skip "$kpkg has no boot/config"
for opt in USB_DUMMY_HCD USB_LIBCOMPOSITE USB_F_FS USB_ACM CONFIGFS_FS 9P_FS NET_9P_VIRTIO; do
  grep -qE "^CONFIG_$opt=[ym]" "$config" || skip "$kpkg lacks CONFIG_$opt"
done

declare -A file_of   # module name (dashes as underscores) -> its file
index_modules() {
  file_of=()
  local f name
  while IFS= read -r f; do
    name=${f##*/}; name=${name%.xz}; name=${name%.ko}; file_of[${name//-/_}]=$f
  done < <(find "$VM/kroot" -name '*.ko' -o -name '*.ko.xz')
}
modinfo_depends() { # the comma-separated "depends=" of a module file
  { if [[ $1 == *.xz ]]; then xz -dc "$1"; else cat "$1"; fi; } | tr '\0' '\n' | sed -n 's/^depends=//p' | head -1
}
order=(); missing=
add_module() { # add_module <name>: its dependencies first, then itself; 1 when a file is missing
  local name=$1 dep deps
  [[ " ${order[*]} " == *" $name "* ]] && return 0
  [[ -n ${file_of[$name]:-} ]] || { missing=$name; return 1; }
  deps=$(modinfo_depends "${file_of[$name]}")
  for dep in ${deps//,/ }; do add_module "${dep//-/_}" || return 1; done
  order+=("$name")
}
resolve_all() { order=(); index_modules; local m; for m in "${WANTED[@]}"; do add_module "$m" || return 1; done; }
if ! resolve_all; then
  log "a module or dependency lies outside the unpacked folders: unpacking the whole package"
  unpack
  resolve_all || skip "module $missing not found in $kpkg"
fi

rm -rf "$VM/modules" && mkdir -p "$VM/modules"
for name in "${order[@]}"; do
  src=${file_of[$name]}; out=$(basename "${src%.xz}")
  if [[ $src == *.xz ]]; then xz -dc "$src" > "$VM/modules/$out"; else cp "$src" "$VM/modules/$out"; fi
  echo "$out" >> "$VM/modules/order"
done
cp "$(find "$VM/kroot" -path '*/boot/vmlinuz-*' | head -1)" "$VM/vmlinuz"
echo "$kpkg" > "$VM/kernel-package"
rm -rf "$VM/kroot" "$VM/deb"
log "kernel and ${#order[@]} modules ready"
