#!/usr/bin/env bash
# Builds $1/initramfs.cpio.gz: busybox plus the modules in $1/modules (loaded in the order of
# $1/modules/order). Its init mounts the host's / read-only over 9p (tag hostroot), the cache
# folder read-write at the same path (tag vmcache, so results land on the host), and switches
# root into the guest script named by usbfn.script= on the kernel command line.
set -euo pipefail
VM=$(cd "$1" && pwd)
IR=$VM/initramfs
rm -rf "$IR" && mkdir -p "$IR"/{bin,proc,sys,dev,newroot,modules}
cp /bin/busybox "$IR/bin/busybox"
cp "$VM"/modules/*.ko "$VM/modules/order" "$IR/modules/"
cat > "$IR/init" <<'EOI'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
for m in $(cat /modules/order); do insmod /modules/$m || echo "init: insmod $m failed"; done
param() { sed -n "s/.*$1=\([^ ]*\).*/\1/p" /proc/cmdline; }
CACHE=$(param usbfn.cache); SCRIPT=$(param usbfn.script); REPO=$(param usbfn.repo)
opts=trans=virtio,version=9p2000.L,msize=512000
mount -t 9p -o $opts,ro,cache=loose hostroot /newroot || { echo "init: 9p root mount failed"; poweroff -f; }
# The guest gets a tmpfs /tmp; a checkout that lives under the host's /tmp stays visible through
# a bind of the host's /tmp taken before the tmpfs covers it.
mkdir -p /hosttmp && mount --bind /newroot/tmp /hosttmp
mount -t tmpfs tmp /newroot/tmp; mount -t tmpfs run /newroot/run
case "$REPO" in /tmp/*) mkdir -p "/newroot$REPO" && mount --bind "/hosttmp${REPO#/tmp}" "/newroot$REPO" ;; esac
mount -t 9p -o $opts,cache=none vmcache /newroot$CACHE || { echo "init: 9p cache mount failed"; poweroff -f; }
mount --move /proc /newroot/proc; mount --move /sys /newroot/sys; mount --move /dev /newroot/dev
exec switch_root /newroot /bin/sh "$SCRIPT"
EOI
chmod +x "$IR/init"
(cd "$IR" && find . | busybox cpio -o -H newc 2>/dev/null | gzip -1) > "$VM/initramfs.cpio.gz"
rm -rf "$IR"
