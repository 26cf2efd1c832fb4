package lock

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
)

// The lease lives in one folder inside the guarded folder:
//
//	.tguard-lease/
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

func numName(n uint64) string { return strconv.FormatUint(n, 10) }

// listNumbers returns the numeric entries of dir, ascending. Other names
// (temporary files, owner.json, markers) are not part of the order.
func listNumbers(dir string) ([]uint64, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var nums []uint64
	for _, e := range entries {
		name := e.Name()
		n, err := strconv.ParseUint(name, 10, 64)
		if err != nil || n == 0 || name != numName(n) {
			continue // not ours, or "007": only canonical names count
		}
		nums = append(nums, n)
	}
	slices.Sort(nums)
	return nums, nil
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
	f, err := os.OpenFile(filepath.Join(dir, marker), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return f.Close()
}
