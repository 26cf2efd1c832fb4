package lock

import (
	"fmt"
	"os"
)

// hostIdentity is what tells two hosts apart and one boot of a host from the
// next. It is read once per Locker.
type hostIdentity struct {
	Hostname, MachineID, BootID, PIDNS string
}

// hostNonceEnv names a folder to keep the host nonce in instead of the
// usual places (on Linux it must be a tmpfs or ramfs). Tests use it to
// simulate several hosts on one machine.
const hostNonceEnv = "TGUARD_HOST_NONCE_DIR"

// hostNonceBytes is the nonce's size: 16 random bytes, 32 hex digits.
const hostNonceBytes = 16

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
		HostNonce: hostNonce(),
		PID:       pid,
		StartTime: start,
		Nonce:     randomHex(8),
	}, nil
}

// holderFate is what this host can prove about a holder.
type holderFate int

const (
	fateUnknown holderFate = iota // not provably this boot of this host: wait for expiry
	fateAlive                     // this boot of this host, and the very process is running
	fateDead                      // this boot of this host, and the process is gone or reused
)

// judgeHolder decides from this host whether the holder in rec is dead.
// Only a record provably written on this boot of this machine can be
// judged: its host nonce (see hostnonce.go) is ours, and so are its boot id,
// hostname, machine id and PID namespace. Hostname, machine id and PID
// namespace alone collide across machines, and a boot id that differs
// proves nothing about the holder (it may be another machine), so anything
// else is fateUnknown, and waits for expiry.
func judgeHolder(rec ownerRecord, self Identity) holderFate {
	if self.HostNonce == "" || rec.HostNonce != self.HostNonce ||
		rec.BootID != self.BootID || rec.Hostname != self.Hostname ||
		rec.MachineID != self.MachineID || rec.PIDNS != self.PIDNS || rec.PID <= 0 {
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
