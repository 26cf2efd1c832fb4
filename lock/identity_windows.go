//go:build windows

package lock

import (
	"errors"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/registry"
)

// readHostIdentity uses the installation's MachineGuid. Windows needs no
// boot id: process creation times are absolute, so a PID of an earlier boot
// never matches.
func readHostIdentity() hostIdentity {
	var id hostIdentity
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, `SOFTWARE\Microsoft\Cryptography`, registry.QUERY_VALUE|registry.WOW64_64KEY)
	if err == nil {
		id.MachineID, _, _ = k.GetStringValue("MachineGuid")
		k.Close()
	}
	return id
}

// stillActive is STILL_ACTIVE, the exit code of a running process.
const stillActive = 259

// processStartTime returns the creation time of pid (100 ns since 1601).
func processStartTime(pid int) (uint64, error) {
	h, err := windows.OpenProcess(windows.PROCESS_QUERY_LIMITED_INFORMATION, false, uint32(pid))
	if err != nil {
		return 0, err
	}
	defer windows.CloseHandle(h)
	var created, exited, kernel, user windows.Filetime
	if err := windows.GetProcessTimes(h, &created, &exited, &kernel, &user); err != nil {
		return 0, err
	}
	return uint64(created.HighDateTime)<<32 | uint64(created.LowDateTime), nil
}

// processAlive opens the process: ERROR_INVALID_PARAMETER means no such
// PID; ERROR_ACCESS_DENIED means it exists (alive). A process that exited but
// whose handle is still open elsewhere reports an exit code other than
// STILL_ACTIVE.
func processAlive(pid int, start uint64) (alive, known bool) {
	h, err := windows.OpenProcess(windows.PROCESS_QUERY_LIMITED_INFORMATION, false, uint32(pid))
	switch {
	case errors.Is(err, windows.ERROR_INVALID_PARAMETER):
		return false, true
	case errors.Is(err, windows.ERROR_ACCESS_DENIED):
		return true, true
	case err != nil:
		return false, false
	}
	defer windows.CloseHandle(h)
	var code uint32
	if err := windows.GetExitCodeProcess(h, &code); err == nil && code != stillActive {
		return false, true
	}
	if start == 0 {
		return true, true
	}
	var created, exited, kernel, user windows.Filetime
	if err := windows.GetProcessTimes(h, &created, &exited, &kernel, &user); err != nil {
		return true, true
	}
	return uint64(created.HighDateTime)<<32|uint64(created.LowDateTime) == start, true
}
