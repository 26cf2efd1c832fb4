#!/usr/bin/env bash
# Bounded model check of the lease protocol (lock/model/lease.pml) with spin:
# mutual exclusion and strictly growing fencing tokens, with stale reads,
# crashes, pauses and I/O errors. Then the controls: each deliberately
# broken protocol must make spin find a violation, or the check proves
# nothing. Exit 0 iff the protocol passes and every control fails.
set -euo pipefail
model="$(cd "$(dirname "$0")/../../lock/model" && pwd)/lease.pml"
command -v spin >/dev/null || { echo "spin-check: spin is missing (make deps installs it)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

# The protocol as the Go code has it (lock/*.go): FIX_KEEP (a name once made
# is never removed) and FIX_NO_REVIVE (a late renewal never revives).
PROTOCOL="-DFIX_KEEP -DFIX_NO_REVIVE"
# Bounds that finish in seconds on 2 cores: 2 processes, 2 generations of
# up to 3 slots, lease 4 ticks, margin 1, one crash.
BOUNDS="-DNG=2 -DNS=3"

# check NAME FLAGS: runs pan, prints its verdict, returns 0 if no error.
check() {
	local name=$1; shift
	rm -f pan pan.* ./*.trail
	spin -a "$@" "$model" >spin.log 2>&1 || { cat spin.log >&2; return 2; }
	gcc -O2 -w -DSAFETY -DCOLLAPSE -o pan pan.c
	local start=$SECONDS
	timeout 300 ./pan -m3000000 -w26 >pan.log 2>&1 || true
	local errors states depth
	errors=$(sed -n 's/.*errors: \([0-9]*\).*/\1/p' pan.log | tail -1)
	states=$(sed -n 's/^ *\([0-9.e+]*\) states, stored.*/\1/p' pan.log | tail -1)
	depth=$(sed -n 's/.*depth reached \([0-9]*\).*/\1/p' pan.log | tail -1)
	if [ -z "$errors" ]; then
		echo "spin-check: $name: pan did not finish" >&2
		tail -5 pan.log >&2
		return 2
	fi
	echo "spin-check: $name: states=$states depth=$depth errors=$errors seconds=$((SECONDS - start))"
	[ "$errors" = 0 ]
}

check protocol $PROTOCOL $BOUNDS || { echo "spin-check: the protocol violates a property:" >&2; grep -m1 "assertion violated" pan.log >&2 || true; exit 1; }

failed=0
for control in BUG_NO_VERIFY BUG_NO_WAIT BUG_EXCL_CREATE BUG_STAMP_AFTER; do
	if check "control $control" $PROTOCOL $BOUNDS -D$control; then
		echo "spin-check: control $control found no violation: the check cannot fail" >&2
		failed=1
	elif [ $? -eq 2 ]; then
		failed=1
	fi
done
[ $failed = 0 ] && echo "spin-check: protocol: errors: 0; every control caught"
exit $failed
