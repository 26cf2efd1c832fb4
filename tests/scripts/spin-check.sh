#!/usr/bin/env bash
# spin-check.sh -- model-check tguard's lease protocol and its index fence
# with spin.  The model is lock/model/lease.pml; lock/model/README.md
# explains it.
#
#   1. The bounded checks of the protocol as it is: each an
#      exhaustive search for a violation of mutual exclusion (ME), fencing-
#      token monotonicity (TOK), no lost update (LOST) or the token floor
#      (FLOOR).  They must find none:
#        main-2p, main-3p  the lease, every fault on (stale readings,
#                          crashes, pauses, I/O and listing errors), two
#                          lease durations
#        fence             the index's compare-and-set fence, with a force-
#                          break and paused VMs
#        floor             the token floor, the lease folder deleted
#   2. The controls: the same protocol with one bug put in, and the bugs of
#      earlier versions the model found (a grant or end that removed the name
#      it made, a late renewal that revived the lease, the one-way fence, the
#      unbounded unreadable record).  The checker must
#      find a violation of the named property in each, or the checks above
#      prove nothing.
#   3. The limits: two assumptions the protocol needs (the fence's check
#      and the rename as one step; the lease folder deleted only between
#      runs); the checker must find what goes wrong without them.
#
# Exit 0 iff 1 finds no error and every control and limit finds its
# violation.  Works in a temporary folder (spin writes pan.* files) and
# removes it.  Needs spin and gcc.  About 2 to 3 minutes and, at most,
# 2.7 GB (main-2p and fence side by side) on 2 cores.
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
SHORTEST="-O0 -w -DSAFETY -DBFS -DMEMLIM=2500" # breadth-first: shortest trail
FIRST="-O1 -w -DSAFETY -DMEMLIM=2500"         # depth-first, stops at the first error

# The configurations.  MAIN: the lease with every fault, two lease
# durations (4 and 8 ticks).  FENCE and FLOOR: the index and its fence, with
# one lease duration and one slot per generation (the index's properties do
# not depend on renewals; see lock/model/README.md), fewer lease faults.
MAIN2="-DNPROC=2 -DNG=3 -DNS=3"
MAIN3="-DNPROC=3 -DNG=2 -DNS=2"
FENCE="-DINDEX -DNPROC=2 -DNG=3 -DNS=1 -DLEASE_B=4 -DNO_IO_ERRORS -DNO_LIST_ERRORS"
FLOOR="-DINDEX -DDELETE -DNPROC=2 -DNG=3 -DNS=1 -DLEASE_B=4 -DNO_IO_ERRORS -DNO_LIST_ERRORS -DMAXCRASH=0"

# name | spin flags | cc flags | pan flags | expect | property | what
#   expect: pass (no error and the whole state space searched); fail (a
#   control: a violation of property, with a trail); limit (the same as
#   fail, for an assumption the protocol needs: the model shows what goes
#   wrong without it)
#   property: ME, TOK, LOST or FLOOR, the assertion a control must violate
# The longest runs come first: $JOBS run at a time.
JOBLIST=(
	"main-2p|$MAIN2|$EXHAUSTIVE|-m100000 -w25|pass|-|2 processes (leases 4 and 8), 3 generations, 3 slots each"
	"fence|$FENCE -DBREAK -DVMPAUSE|$EXHAUSTIVE|-m100000 -w24|pass|-|the fence: 2 writers, a force-break, paused VMs"
	"floor|$FLOOR|$EXHAUSTIVE|-m100000 -w24|pass|-|the token floor: 2 writers, the lease folder deleted between runs"
	"main-3p|$MAIN3|$EXHAUSTIVE|-m100000 -w24|pass|-|3 processes (leases 4, 8, 4), 2 generations, 2 slots each"
	"BUG_NO_VERIFY|-DBUG_NO_VERIFY $MAIN2|$SHORTEST|-m100000 -w22|fail|TOK|no listing after the grant and end mkdirs"
	"BUG_NO_WAIT|-DBUG_NO_WAIT $MAIN2|$SHORTEST|-m100000 -w22|fail|ME|a waiter ends a generation without waiting lease + margin"
	"BUG_EXCL_CREATE|-DBUG_EXCL_CREATE $MAIN2|$SHORTEST|-m100000 -w22|fail|TOK|the grant mkdir is not exclusive (as O_EXCL on the share)"
	"BUG_STAMP_AFTER|-DBUG_STAMP_AFTER $MAIN2|$SHORTEST|-m100000 -w22|fail|ME|the holder reads its clock after its mkdir returns"
	"OLD_RMDIR|-DOLD_RMDIR -DNPROC=2 -DNG=2 -DNS=2|$SHORTEST|-m100000 -w22|fail|ME|earlier version: grant() removes the generation it made when its listing fails"
	"OLD_RMDIR+OLD_REVIVE|-DOLD_RMDIR -DOLD_REVIVE -DNO_LIST_ERRORS -DMAXCRASH=0 -DNO_IO_ERRORS -DNPROC=3 -DNG=2 -DNS=2 -DLEASE_B=4|$FIRST|-m100000 -w24|fail|ME|earlier version: end() removes its slot when a newer one is listed, and a late renewal revives the lease"
	"BUG_OWN_LEASE|-DBUG_OWN_LEASE -DNPROC=2 -DNG=2 -DNS=2|$SHORTEST|-m100000 -w22|fail|ME|earlier version: a waiter that cannot read the holder's record waits for its own lease only"
	"OLD_FENCE+BREAK|-DOLD_FENCE -DBREAK $FENCE|$SHORTEST|-m100000 -w22|fail|LOST|earlier version: the one-way fence (deadline, token not above ours), a force-break"
	"OLD_FENCE+VMPAUSE|-DOLD_FENCE -DVMPAUSE $FENCE|$SHORTEST|-m100000 -w22|fail|LOST|earlier version: the one-way fence, a holder whose VM was paused"
	"NO_CAS+BREAK|-DNO_CAS -DBREAK $FENCE|$SHORTEST|-m100000 -w22|fail|LOST|the fence with the token and the nonce but not \"meta is the one I opened\", a force-break"
	"NO_FLOOR|-DNO_FLOOR $FLOOR|$SHORTEST|-m100000 -w22|fail|FLOOR|no token floor: the lease folder deleted between runs"
	"FLOOR_NAIVE|-DFLOOR_NAIVE $FLOOR|$SHORTEST|-m100000 -w22|fail|ME|the floor's generation made at once, not while holding the next one"
	"PUBLISH_WINDOW|-DPUBLISH_WINDOW -DINDEX -DNPROC=2 -DNG=3 -DNS=1 -DLEASE_B=4|$SHORTEST|-m100000 -w22|limit|LOST|the fence's check and the rename as two steps (a holder paused between them)"
	"DELETE_ANYTIME|-DDELETE_ANYTIME $FLOOR|$FIRST|-m100000 -w24|limit|FLOOR|the lease folder deleted while processes run"
)

# job NAME SPINFLAGS CCFLAGS PANFLAGS: build and run one pan in $work/NAME
job() {
	local d=$work/$1
	mkdir -p "$d" && cp "$model" "$d/lease.pml" && cd "$d" || return 1
	local t0=$SECONDS
	if ! spin $2 -a lease.pml >spin.log 2>&1; then echo "spin -a failed" >pan.out; cat spin.log >>pan.out; return 1; fi
	if ! gcc $3 -o pan pan.c >cc.log 2>&1; then echo "gcc failed" >pan.out; cat cc.log >>pan.out; return 1; fi
	./pan $4 >pan.out 2>&1
	# replay a counterexample here, in parallel with the other jobs
	[ -f lease.pml.trail ] && spin $2 -t lease.pml >trail.raw 2>/dev/null
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

# property NAME: which of the model's properties the violation in NAME is,
# from the text of the failed assertion (lease.pml's ME, TOK, LOST, FLOOR)
property() {
	case $(field "$1" what) in
	*'holders<=1'*) echo ME ;;
	*'>lastTok'*)   echo TOK ;;
	*'odocs['*)     echo LOST ;;
	*'>mtok'*)      echo FLOOR ;;
	*)              echo other ;;
	esac
}

# the events of the trail in $work/NAME, one a line, with the ticks counted
# (a tick in which a paused VM's clock stood still is shown)
trail() {
	awk '{ sub(/^[ \t]+/, "") }
	     /^tick$/ { t++; next }
	     /^tick \(/ { t++; printf "        t=%-2d %s\n", t, substr($0, 6); next }
	     /^P[0-9]/ { printf "        t=%-2d %s\n", t, $0; n++ }
	     END { printf "        (%d events, %d ticks)\n", n, t }' "$work/$1/trail.raw" 2>/dev/null
}

start=$SECONDS
echo "spin-check: $(spin -V | head -1); model $model"
echo "spin-check: leases 4 and 8 ticks (margin 1), one crash, stale readings, I/O and listing errors; the fence and the floor with one lease"

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
	IFS='|' read -r name sflags cflags pflags expect prop what <<<"$entry"
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
			echo "FAIL $name ($what): $(property "$name") violated: $(field "$name" what)"
			echo "      $figures, errors: $errors"
			echo "      counterexample, $(field "$name" errdepth) steps (spin $sflags):"
			trail "$name"
			failed=1
		elif grep -q -e 'max search depth too small' -e 'MEMLIM' -e 'out of memory' "$out"; then
			echo "FAIL $name ($what): search incomplete (depth or memory limit): $figures"
			failed=1
		else
			echo "ok   $name ($what): $figures, errors: 0"
		fi
	else
		kind=control
		[ "$expect" = limit ] && kind=limit
		got=$(property "$name")
		if [ "$errors" != 0 ] && [ -f "$work/$name/lease.pml.trail" ] && [ "$got" = "$prop" ]; then
			echo "ok   $kind $name ($what)"
			echo "      caught: $got, trail of $(field "$name" errdepth) steps ($(cat "$work/$name/wall" 2>/dev/null) s)"
			trail "$name"
		elif [ "$errors" != 0 ]; then
			echo "FAIL $kind $name ($what): expected a violation of $prop, found $got: $(field "$name" what)"
			trail "$name"
			failed=1
		else
			echo "FAIL $kind $name ($what): no violation found: $figures"
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
