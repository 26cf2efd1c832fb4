#!/usr/bin/env bash
# Installs the Debian packages named as arguments, only those missing.
# The list lives in the Makefile (DEB_PACKAGES); "make deps" calls this.
# Debian/Ubuntu only (apt-get); must run as root (or with sudo available).
set -euo pipefail

packages=("$@")

missing=()
for p in "${packages[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done

if [ "${#missing[@]}" -eq 0 ]; then
	echo "deps: already installed: ${packages[*]}"
	exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
	echo "deps: apt-get not found; install these packages by hand: ${missing[*]}" >&2
	exit 1
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		sudo=(sudo)
	else
		echo "deps: must run as root to install: ${missing[*]}" >&2
		exit 1
	fi
fi

echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update
"${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}"

# The samba package may start a system smbd, which would hold port 445 that
# the test share needs. Stop it (only when this script installed samba).
for m in "${missing[@]}"; do
	if [ "$m" = samba ]; then
		if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet smbd 2>/dev/null; then
			"${sudo[@]}" systemctl stop smbd nmbd 2>/dev/null || true
			"${sudo[@]}" systemctl disable smbd nmbd 2>/dev/null || true
		elif command -v service >/dev/null 2>&1; then
			"${sudo[@]}" service smbd stop >/dev/null 2>&1 || true
			"${sudo[@]}" service nmbd stop >/dev/null 2>&1 || true
		fi
	fi
done
# etcd-server may start a system etcd on port 2379; the tests start their
# own members on free loopback ports and need none (only when installed here).
for m in "${missing[@]}"; do
	if [ "$m" = etcd-server ] && command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet etcd 2>/dev/null; then
		"${sudo[@]}" systemctl stop etcd 2>/dev/null || true
		"${sudo[@]}" systemctl disable etcd 2>/dev/null || true
	fi
done
echo "deps: done"
