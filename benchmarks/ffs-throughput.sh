#!/usr/bin/env bash
# Issue 8 item 3: bulk throughput through the Linux kernel's FunctionFS + dummy_hcd in the
# end-to-end VM, usbfn's BulkPipe against the C AIO reference gadget (benchmarks/ffs-aio-gadget.c)
# in the same boot, same queue depth and transfer size, host = libusb keeping DEPTH transfers in
# flight (benchmarks/usb-host-bench.c). TCG emulation: compare the two, not the absolute figures.
#   bash benchmarks/ffs-throughput.sh   # BENCH_DEPTH=8 BENCH_BYTES=262144 BENCH_MIB=128 BENCH_ROUNDS=1
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${USBFN_E2E_CACHE:-$ROOT/.vm}
export USBFN_E2E_PLAN=bench
# the guest reads its settings from the kernel command line
export USBFN_E2E_APPEND="bench.depth=${BENCH_DEPTH:-8} bench.bytes=${BENCH_BYTES:-262144} bench.mib=${BENCH_MIB:-128} bench.rounds=${BENCH_ROUNDS:-1}"
export USBFN_E2E_VM_TIMEOUT=${USBFN_E2E_VM_TIMEOUT:-900}
bash "$ROOT/test/e2e/run.sh" > /dev/null
[[ -s $CACHE/out/bench ]] || { echo "no results (see $CACHE/console.log)"; exit 1; }
cat "$CACHE/out/bench"
awk '$1 == "bench" { sum[$2 " " $3] += $4; n[$2 " " $3]++ }
  END { split("out in", ds, " ");
    for (i = 1; i <= 2; i++) { c = sum["c-aio " ds[i]] / n["c-aio " ds[i]]; u = sum["usbfn " ds[i]] / n["usbfn " ds[i]];
      if (c > 0) printf "%-3s usbfn %.1f MiB/s vs C %.1f MiB/s: %.0f%%\n", ds[i], u, c, 100 * u / c } }' "$CACHE/out/bench"
