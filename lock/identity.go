package lock

import (
	"fmt"
	"os"
)

// hostIdentity is what tells two hosts apart and one boot of a host from the
// next. It is read once per process.
type hostIdentity struct {
	Hostname, MachineID, BootID, PIDNS string
}

// selfIdentity builds the Identity of this process for owner.
func selfIdentity(owner string) (Identity, error) {
	h, err := os.Hostname()
	if err != nil {
		return Identity{}, fmt.Errorf("lock: hostname: %w", err)
	}
	host := readHostIdentity()
	pid := os.Getpid()
	start, _ := processStartTime(pid)
	if owner == "" {
		owner = fmt.Sprintf("%s_%d", h, pid)
	}
	return Identity{
		Owner:     owner,
		Hostname:  h,
		MachineID: host.MachineID,
		BootID:    host.BootID,
		PIDNS:     host.PIDNS,
		PID:       pid,
		StartTime: start,
		Nonce:     randomHex(8),
	}, nil
}

// holderFate is what this host can prove about a holder.
type holderFate int

const (
	fateUnknown holderFate = iota // another host, or nothing provable: wait for expiry
	fateAlive                     // same host, the very process is running
	fateDead                      // same host, and the process is gone, reused, or the host rebooted
)

// judgeHolder decides from this host whether the holder in rec is dead.
// Only a holder on this host (same hostname, machine id and PID namespace)
// can be judged; for any other the answer is fateUnknown.
func judgeHolder(rec ownerRecord, self Identity) holderFate {
	if rec.Hostname != self.Hostname || rec.MachineID != self.MachineID || rec.PIDNS != self.PIDNS {
		return fateUnknown
	}
	if rec.BootID != "" && self.BootID != "" && rec.BootID != self.BootID {
		return fateDead // this host rebooted since the grant: every process of then is gone
	}
	if rec.BootID != self.BootID || rec.PID <= 0 {
		return fateUnknown
	}
	alive, known := processAlive(rec.PID, rec.StartTime)
	switch {
	case !known:
		return fateUnknown
	case alive:
		return fateAlive
	default:
		return fateDead
	}
}
