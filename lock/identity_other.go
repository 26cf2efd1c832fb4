//go:build !linux && !windows

package lock

import (
	"errors"
	"syscall"
)

func readHostIdentity() hostIdentity { return hostIdentity{} }

// hostNonce: no per-boot memory file system is known here, so no nonce,
// and no holder is ever proven dead from this host (expiry only).
func hostNonce() string { return "" }

func processStartTime(int) (uint64, error) { return 0, errors.ErrUnsupported }

// processAlive: without a start time a live PID may be a reused one, so only
// "gone" is conclusive here.
func processAlive(pid int, _ uint64) (alive, known bool) {
	err := syscall.Kill(pid, 0)
	if errors.Is(err, syscall.ESRCH) {
		return false, true
	}
	return false, false
}
