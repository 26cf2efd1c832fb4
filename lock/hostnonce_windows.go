//go:build windows

package lock

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strconv"
	"unsafe"

	"golang.org/x/sys/windows"
)

// hostNonce returns this boot's host nonce. Windows has no tmpfs, so the
// nonce file is named after the boot time, in the machine's temp folder
// (%SystemRoot%\Temp, or TGUARD_HOST_NONCE_DIR): a cloned disk that boots
// again has another boot time, and so makes a new nonce. A change of the
// system time also changes the kernel's boot time: the nonce then changes
// too, and earlier holders are waited out by expiry (safe, slower). An
// account that cannot read another's nonce file has no nonce: "".
func hostNonce() string {
	dir := os.Getenv(hostNonceEnv)
	if dir == "" {
		win, err := windows.GetSystemWindowsDirectory()
		if err != nil {
			return ""
		}
		dir = filepath.Join(win, "Temp")
	}
	boot, ok := bootTime()
	if !ok {
		return ""
	}
	return loadHostNonce(filepath.Join(dir, "tguard-host-nonce-"+strconv.FormatInt(boot, 10)))
}

// bootTime is the kernel's boot time (100 ns since 1601), the first field
// of SYSTEM_TIMEOFDAY_INFORMATION (48 bytes).
func bootTime() (int64, bool) {
	var info [48]byte
	var n uint32
	if err := windows.NtQuerySystemInformation(windows.SystemTimeOfDayInformation, unsafe.Pointer(&info[0]), uint32(len(info)), &n); err != nil {
		return 0, false
	}
	boot := int64(binary.LittleEndian.Uint64(info[:8]))
	return boot, boot > 0
}

// publishNoReplace renames tmp to path unless path exists.
func publishNoReplace(tmp, path string) error {
	f, err := windows.UTF16PtrFromString(tmp)
	if err != nil {
		return err
	}
	t, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return err
	}
	return windows.MoveFileEx(f, t, windows.MOVEFILE_WRITE_THROUGH)
}
