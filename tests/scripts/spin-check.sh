#!/usr/bin/env bash
# spin-check.sh -- model-check tguard's lease protocol with spin.
# The model is lock/model/lease.pml; lock/model/README.md explains it.
#
#   1. The bounded check of the protocol as lock/ implements it: an
#      exhaustive search, with every fault on (stale readings, crashes,
#      pauses, I/O errors, failing listings), for a violation of mutual
#      exclusion or of fencing-token monotonicity.  It must find none.
#   2. The controls: the same protocol with one bug put in, and the two
#      bugs of the code before aaedb63 (1cc666d).  The checker must find a
#      violation in each, or the check above proves nothing.
#
# Exit 0 iff 1 finds no error and every control finds one.  Works in a
# temporary folder (spin writes pan.* files) and removes it.  Needs spin and
# gcc.  About 1.5 minutes and 3 GB on 2 cores.
set -u -o pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
model=$root/lock/model/lease.pml
JOBS=${SPIN_CHECK_JOBS:-2}

for tool in spin gcc; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "spin-check: $tool not found (Debian packages: spin, gcc)" >&2
		exit 2
	fi
done
[ -f "$model" ] || { echo "spin-check: $model not found" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/spin-check.XXXXXX")
running=()
cleanup() {
	local p
	for p in "${running[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# -O1: -O2 takes 6 times longer to compile pan.c and searches no faster.
# MEMLIM (MB) stops a search that would need more memory than planned.
EXHAUSTIVE="-O1 -w -DSAFETY -DMEMLIM=3500"   # depth-first, every state stored
SHORTEST="-O1 -w -DSAFETY -DBFS -DMEMLIM=2500" # breadth-first: shortest trail
FIRST="-O1 -w -DSAFETY -DMEMLIM=2500"         # depth-first, stops at the first error

# name | spin flags | cc flags | pan flags | expect (pass: no error and the
# whole state space searched; fail: a violation with a trail) | what
JOBLIST=(
	"main-2p|-DNPROC=2 -DNG=3 -DNS=3|$EXHAUSTIVE|-m100000 -w25|pass|2 processes, 3 generations, 3 slots each"
	"main-3p|-DNPROC=3 -DNG=2 -DNS=2|$EXHAUSTIVE|-m100000 -w24|pass|3 processes, 2 generations, 2 slots each"
	"BUG_NO_VERIFY|-DBUG_NO_VERIFY -DNPROC=2 -DNG=3 -DNS=3|$SHORTEST|-m100000 -w22|fail|no listing after the grant and end mkdirs"
	"BUG_NO_WAIT|-DBUG_NO_WAIT -DNPROC=2 -DNG=3 -DNS=3|$SHORTEST|-m100000 -w22|fail|a waiter ends a generation without waiting lease + margin"
	"BUG_EXCL_CREATE|-DBUG_EXCL_CREATE -DNPROC=2 -DNG=3 -DNS=3|$SHORTEST|-m100000 -w22|fail|the grant mkdir is not exclusive (as O_EXCL on the share)"
	"BUG_STAMP_AFTER|-DBUG_STAMP_AFTER -DNPROC=2 -DNG=3 -DNS=3|$SHORTEST|-m100000 -w22|fail|the holder reads its clock after its mkdir returns"
	"OLD_RMDIR|-DOLD_RMDIR -DNPROC=2 -DNG=2 -DNS=2|$SHORTEST|-m100000 -w22|fail|1cc666d: grant() removes the generation it made when its listing fails"
	"OLD_RMDIR+OLD_REVIVE|-DOLD_RMDIR -DOLD_REVIVE -DNO_LIST_ERRORS -DMAXCRASH=0 -DNO_IO_ERRORS -DNPROC=3 -DNG=2 -DNS=2|$FIRST|-m100000 -w24|fail|1cc666d: end() removes its slot when a newer one is listed, and a late renewal revives the lease"
)

# job NAME SPINFLAGS CCFLAGS PANFLAGS: build and run one pan in $work/NAME
job() {
	local d=$work/$1
	mkdir -p "$d" && cp "$model" "$d/lease.pml" && cd "$d" || return 1
	local t0=$SECONDS
	if ! spin $2 -a lease.pml >spin.log 2>&1; then echo "spin -a failed" >pan.out; cat spin.log >>pan.out; return 1; fi
	if ! gcc $3 -o pan pan.c >cc.log 2>&1; then echo "gcc failed" >pan.out; cat cc.log >>pan.out; return 1; fi
	./pan $4 >pan.out 2>&1
	echo $((SECONDS - t0)) >wall
}

field() { # field NAME WHAT
	local out=$work/$1/pan.out
	case $2 in
	errors)  sed -n 's/.*errors: \([0-9]*\).*/\1/p' "$out" | tail -1 ;;
	states)  sed -n 's/^ *\([0-9.e+]*\) states, stored.*/\1/p' "$out" | tail -1 ;;
	depth)   sed -n 's/.*depth reached \([0-9]*\),.*/\1/p' "$out" | tail -1 ;;
	errdepth) sed -n 's/^pan:1: .*(at depth \([0-9]*\)).*/\1/p' "$out" | head -1 ;;
	memory)  sed -n 's/^ *\([0-9.]*\)[[:space:]]*total actual memory usage.*/\1/p' "$out" | tail -1 ;;
	seconds) sed -n 's/^pan: elapsed time \([0-9.e+]*\) seconds.*/\1/p' "$out" | tail -1 ;;
	what)    sed -n 's/^pan:1: \(assertion violated .*\) (at depth.*/\1/p' "$out" | head -1 ;;
	esac
}

# the events of the trail in $work/NAME, one a line, with the ticks counted
trail() {
	(cd "$work/$1" && spin $2 -t lease.pml 2>/dev/null) |
		awk '{ sub(/^[ \t]+/, "") }
		     /^tick$/ { t++; next }
		     /^P[0-9]/ { printf "        t=%-2d %s\n", t, $0; n++ }
		     END { printf "        (%d events, %d ticks)\n", n, t }'
}

start=$SECONDS
echo "spin-check: $(spin -V | head -1); model $model"
echo "spin-check: lease 4 ticks, margin 1, one crash, stale readings, I/O and listing errors"

# run the jobs, $JOBS at a time
for entry in "${JOBLIST[@]}"; do
	IFS='|' read -r name sflags cflags pflags _ <<<"$entry"
	while [ "${#running[@]}" -ge "$JOBS" ]; do
		wait -n 2>/dev/null
		alive=()
		for p in "${running[@]}"; do kill -0 "$p" 2>/dev/null && alive+=("$p"); done
		running=("${alive[@]}")
	done
	(job "$name" "$sflags" "$cflags" "$pflags") &
	running+=($!)
done
wait
running=()

failed=0
for entry in "${JOBLIST[@]}"; do
	IFS='|' read -r name sflags cflags pflags expect what <<<"$entry"
	out=$work/$name/pan.out
	errors=$(field "$name" errors)
	if [ -z "$errors" ]; then
		echo "FAIL $name: the search did not finish"
		sed 's/^/        /' "$out" 2>/dev/null | tail -8
		failed=1
		continue
	fi
	figures="$(field "$name" states) states, depth $(field "$name" depth), $(field "$name" seconds) s search ($(cat "$work/$name/wall" 2>/dev/null) s with the build), $(field "$name" memory) MB"
	if [ "$expect" = pass ]; then
		if [ "$errors" != 0 ]; then
			echo "FAIL $name ($what): $(field "$name" what)"
			echo "      $figures, errors: $errors"
			echo "      counterexample, $(field "$name" errdepth) steps (spin $sflags):"
			trail "$name" "$sflags"
			failed=1
		elif grep -q -e 'max search depth too small' -e 'MEMLIM' -e 'out of memory' "$out"; then
			echo "FAIL $name ($what): search incomplete (depth or memory limit): $figures"
			failed=1
		else
			echo "ok   $name ($what): $figures, errors: 0"
		fi
	else
		if [ "$errors" != 0 ] && [ -f "$work/$name/lease.pml.trail" ]; then
			echo "ok   control $name ($what)"
			echo "      caught: $(field "$name" what), trail of $(field "$name" errdepth) steps"
			trail "$name" "$sflags"
		else
			echo "FAIL control $name ($what): no violation found: $figures"
			failed=1
		fi
	fi
done

echo "spin-check: $((SECONDS - start)) s"
if [ "$failed" != 0 ]; then
	echo "spin-check: FAILED (lock/model/README.md says what the model checks)"
	exit 1
fi
echo "spin-check: ok: the protocol passes (errors: 0), every control is caught"
