package lock

import (
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The lease lives in one folder inside the guarded folder:
//
//	.tguard-lease/
//	  lease-<ms>/       a lease duration in use: made by every contender
//	                    before its grant, never removed by tguard
//	  <G>/              generation G, made by mkdir: the grant of token G
//	    owner.json      who was granted G (written after the grant, then never)
//	    <k>/            slot k, made by mkdir: the holder's k-th renewal, or,
//	      released      the end of G: a marker file in the last slot
//	      expired         (released by the holder, taken over by a waiter,
//	      broken          or broken by an operator)
//
// Only mkdir decides anything: it is exclusive on every client measured, so
// of all who race for the same name exactly one wins.
const (
	leaseDirName   = ".tguard-lease"
	ownerFileName  = "owner.json"
	markerReleased = "released"
	markerExpired  = "expired"
	markerBroken   = "broken"
)

var markers = []string{markerReleased, markerExpired, markerBroken}

// leasePrefix starts the name of a declared lease duration, lease-<ms>.
const leasePrefix = "lease-"

func numName(n uint64) string { return strconv.FormatUint(n, 10) }

// parseNum reads a canonical positive decimal name; "007", "0" and
// anything else are not numbers of ours.
func parseNum(name string) (uint64, bool) {
	n, err := strconv.ParseUint(name, 10, 64)
	return n, err == nil && n != 0 && name == numName(n)
}

// leaseName is the folder that declares the lease duration d.
func leaseName(d time.Duration) string { return leasePrefix + strconv.FormatInt(durationMS(d), 10) }

// listNumbers returns the numeric entries of dir, ascending. Other names
// (temporary files, owner.json, markers) are not part of the order.
func listNumbers(dir string) ([]uint64, error) {
	nums, _, err := listRoot(dir)
	return nums, err
}

// listRoot is one listing of the lease folder: the generations, ascending,
// and the declared lease durations.
func listRoot(dir string) (nums []uint64, declared []time.Duration, err error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, err
	}
	for _, e := range entries {
		name := e.Name()
		if n, ok := parseNum(name); ok {
			nums = append(nums, n)
		} else if ms, ok := strings.CutPrefix(name, leasePrefix); ok {
			if n, ok := parseNum(ms); ok && n <= math.MaxInt64 {
				declared = append(declared, msDuration(int64(n)))
			}
		}
	}
	slices.Sort(nums)
	return nums, declared, nil
}

func maxNumber(nums []uint64) uint64 {
	if len(nums) == 0 {
		return 0
	}
	return nums[len(nums)-1]
}

// markerIn returns the end marker in slot folder dir, or "" if there is
// none. It lists the folder instead of stat-ing each name: on a share, a
// listing was measured fresh where a stat stays stale for a second.
func markerIn(dir string) (string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", err
	}
	for _, e := range entries {
		if slices.Contains(markers, e.Name()) {
			return e.Name(), nil
		}
	}
	return "", nil
}

// writeMarker creates the empty marker file in slot folder dir. It uses an
// exclusive create: on a share, a truncating create of a name this client
// had looked up was measured to fail with ENOENT. A marker that is already
// there is fine: its existence is all it says.
func writeMarker(dir, marker string) error {
	f, err := os.OpenFile(filepath.Join(dir, marker), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return f.Close()
}
