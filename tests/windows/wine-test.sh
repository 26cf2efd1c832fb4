#!/usr/bin/env bash
# make test-windows: runs the Windows builds under Wine on this Linux host.
#
#  1. A Wine prefix in $RUN_DIR/wine with the ProcessPrng shim
#     (shim/bcryptprimitives.c says why) and drive N: mapped as a network drive
#     (Wine's drive type "network": GetDriveTypeW says DRIVE_REMOTE).
#  2. go test -c of bridge, lock, indexer and its journal and walk packages
#     for windows/amd64 (cgo with mingw), each run under Wine.
#  3. The Linux-side driver (tests/windows, go test) runs $WIN_BIN, the
#     tguard.exe of make windows, under Wine on real folders, next to
#     bin/tguard.
#
# The test binaries (not tguard.exe) are built with a one-line overlay of
# Go's internal/syscall/windows: Wine 8 answers the POSIX delete that Go's
# os.RemoveAll uses for folders with STATUS_NOT_IMPLEMENTED, which Go does
# not take as "unsupported, use the old way" (real Windows never returns
# it), so every t.TempDir cleanup would fail. The overlay adds that status
# to the ones that fall back.
set -euo pipefail

GO=${GO:-go}
RUN_DIR=${RUN_DIR:-.run}
WIN_BIN=${WIN_BIN:-bin/windows_amd64/tguard.exe}
WIN_CC=${WIN_CC:-x86_64-w64-mingw32-gcc}
TIMEOUT=${TGUARD_WINE_TIMEOUT:-8m}

for tool in wine wineserver "$WIN_CC"; do
	command -v "$tool" >/dev/null || { echo "test-windows: $tool not found (make deps-windows installs it)" >&2; exit 1; }
done

root=$(pwd)
case $RUN_DIR in /*) ;; *) RUN_DIR=$root/$RUN_DIR ;; esac
out=$RUN_DIR/windows
mkdir -p "$out"
export WINEPREFIX=$RUN_DIR/wine WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml=" WINEARCH=win64

# 1. The prefix (once), the shim (each run: the source may change).
if [ ! -f "$WINEPREFIX/system.reg" ]; then
	echo "test-windows: creating the Wine prefix $WINEPREFIX"
	wineboot -i </dev/null >"$out/wineboot.log" 2>&1 || { cat "$out/wineboot.log"; exit 1; }
fi
"$WIN_CC" -O2 -shared -o "$out/bcryptprimitives.dll" tests/windows/shim/bcryptprimitives.c \
	tests/windows/shim/bcryptprimitives.def -ladvapi32
cp "$out/bcryptprimitives.dll" "$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll"
mkdir -p "$out/netdrive"
ln -sfn "$out/netdrive" "$WINEPREFIX/dosdevices/n:"
if ! grep -qs '"n:"="network"' "$WINEPREFIX/system.reg"; then # a new prefix may not have written it yet
	wine reg add 'HKLM\Software\Wine\Drives' /v n: /t REG_SZ /d network /f </dev/null >/dev/null
	wineserver -k || true # the drive types are read when Wine starts
	wineserver -w || true
fi
# Start Wine's services before any output is piped: otherwise the pipe
# stays open on winedevice.exe and the reader hangs.
wine cmd /c ver </dev/null >/dev/null

# 2. The package tests.
goroot=$("$GO" env GOROOT)
atw=$goroot/src/internal/syscall/windows/at_windows.go
sed 's|^\t\tSTATUS_NOT_SUPPORTED:|\t\tSTATUS_NOT_SUPPORTED, NTStatus(0xC0000002):|' "$atw" >"$out/at_windows.go"
grep -q 'NTStatus(0xC0000002)' "$out/at_windows.go" || { echo "test-windows: cannot patch $atw for Wine (Go changed it)" >&2; exit 1; }
printf '{"Replace":{"%s":"%s"}}\n' "$atw" "$out/at_windows.go" >"$out/overlay.json"

fail=0
for pkg in lock indexer indexer/internal/journal indexer/internal/walk bridge; do
	bin=${pkg//\//_}
	echo "test-windows: go test -c ./$pkg (windows/amd64)"
	CGO_ENABLED=1 GOOS=windows GOARCH=amd64 CC="$WIN_CC" "$GO" test -c -overlay "$out/overlay.json" \
		-o "$out/$bin.test.exe" "./$pkg"
	echo "test-windows: wine $bin.test.exe"
	# -test.v: the skips and their reasons show in the log.
	if (cd "$pkg" && TGUARD_TEST_NETWORK_DRIVE=N: wine "$out/$bin.test.exe" -test.short -test.v \
		-test.timeout "$TIMEOUT" </dev/null >"$out/$bin.log" 2>&1); then
		grep -E '^(--- SKIP|ok|PASS)' "$out/$bin.log" | sed 's/^/  /'
		# go test -v prints a skip's reason on the line before "--- SKIP".
		grep -B1 -E '^--- SKIP' "$out/$bin.log" | grep -E '^    ' | sed 's/^/  /' || true
	else
		fail=1
		grep -E -A20 '^(--- FAIL|panic|FAIL)' "$out/$bin.log" | head -80
		echo "test-windows: $pkg failed under Wine (log: $out/$bin.log)"
	fi
done

# 3. tguard.exe itself, driven from Linux.
echo "test-windows: tests/windows on $WIN_BIN"
TGUARD_WINE_EXE=$root/$WIN_BIN TGUARD_LINUX_EXE=$root/bin/tguard TGUARD_WINE_NETDRIVE=$out/netdrive \
	"$GO" test -v -count=1 -timeout 15m ./tests/windows/ >"$out/tests-windows.log" 2>&1 || fail=1
grep -E '^(--- |ok|FAIL|PASS)|FIGURE|: under Wine|skipped' "$out/tests-windows.log" | sed 's/^/  /'
[ "$fail" = 0 ] || grep -E -A20 '^(--- FAIL|panic)' "$out/tests-windows.log" | head -80

exit $fail
