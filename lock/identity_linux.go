package lock

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"syscall"
)

func readHostIdentity() hostIdentity {
	read := func(p string) string {
		b, err := os.ReadFile(p)
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(b))
	}
	ns, _ := os.Readlink("/proc/self/ns/pid")
	return hostIdentity{
		MachineID: read("/etc/machine-id"),
		BootID:    read("/proc/sys/kernel/random/boot_id"),
		PIDNS:     ns,
	}
}

// processStartTime reads field 22 of /proc/PID/stat: the start time in clock
// ticks since boot. With the boot id it names one process instance, so a
// reused PID is told apart from the holder.
func processStartTime(pid int) (uint64, error) {
	_, start, err := procStat(pid)
	return start, err
}

// procStat reads the state (field 3) and start time (field 22) of pid.
func procStat(pid int) (state byte, start uint64, err error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, err
	}
	// The command name (field 2) is in parentheses and may hold spaces.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, 0, errors.New("malformed stat")
	}
	fields := strings.Fields(s[i+1:])
	if len(fields) < 20 || len(fields[0]) != 1 {
		return 0, 0, errors.New("short stat")
	}
	start, err = strconv.ParseUint(fields[19], 10, 64)
	return fields[0][0], start, err
}

// processAlive probes pid with signal 0 (never SIGCONT, which would resume a
// stopped holder). EPERM means the process exists under another user: alive.
// known is false when the probe itself could not decide.
func processAlive(pid int, start uint64) (alive, known bool) {
	err := syscall.Kill(pid, 0)
	switch {
	case errors.Is(err, syscall.ESRCH):
		return false, true
	case err != nil && !errors.Is(err, syscall.EPERM):
		return false, false
	}
	state, got, err := procStat(pid)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return false, true // exited between the probe and the read
	case err != nil:
		return true, true // exists, cannot tell more: treat as alive
	case state == 'Z' || state == 'X':
		return false, true // exited, not yet reaped by its parent
	case start == 0:
		return true, true
	}
	return got == start, true
}
