package lock

import (
	"context"
	"time"
)

// Backend stores the lease record. The file backend (filebackend.go: a
// lease folder of generation directories granted by mkdir) is the default;
// WithEtcd and WithEtcdClient select the etcd backend (etcd.go), and
// WithBackend any other implementation. Callers of Locker do not change
// when they move from a shared folder to etcd.
//
// A Backend is used by one Locker; its methods are not called concurrently
// except Grant's, which run on the lease's renewal goroutine.
type Backend interface {
	// Attempt tries once to be granted the lease for id. While another owner
	// holds it, Attempt returns an error matching ErrHeld (a *HeldError).
	// Attempt may keep state between calls: the file backend remembers for
	// how long it has seen the same record, to judge expiry on its own clock.
	Attempt(ctx context.Context, id Identity, lease time.Duration) (Grant, error)

	// Wait blocks until the record may have changed, at most for d.
	Wait(ctx context.Context, d time.Duration) error

	// Status reads the current record.
	Status(ctx context.Context) (Status, error)

	// Break ends the current lease if its holder is provably dead (same
	// host, process gone), or in any case with force.
	Break(ctx context.Context, force bool) (Status, error)

	// Close releases what the backend holds (watchers).
	Close() error
}

// Grant is one granted lease in a backend.
type Grant interface {
	// Token is the fencing token: strictly greater than every token granted
	// before for the same lock.
	Token() uint64

	// Renew extends the lease. The caller stamps its clock before calling
	// and, on success, counts the new lease from that stamp. Renew returns
	// an error matching ErrLeaseLost when the lease was provably taken away;
	// any other error leaves the lease valid until its current deadline.
	Renew(ctx context.Context) error

	// Release ends the lease so that a waiter may be granted it at once.
	// It never touches a successor's lease.
	Release(ctx context.Context) error
}

// Identity says who asks for the lease, with what a waiter on the same host
// needs to prove the holder dead: the host (name, machine id, boot id, PID
// namespace, and the host nonce that proves them) and the process (PID and
// its start time, against PID reuse).
type Identity struct {
	Owner     string `json:"owner"`
	Hostname  string `json:"hostname"`
	MachineID string `json:"machine_id,omitempty"`
	BootID    string `json:"boot_id,omitempty"`
	PIDNS     string `json:"pid_ns,omitempty"`
	// HostNonce is random per boot of the host, kept on a per-boot memory
	// file system (hostnonce.go): a waiter whose own nonce is the same
	// knows the record was written on this boot of this machine. Empty
	// when the holder had none: then it is never judged dead.
	HostNonce string `json:"host_nonce,omitempty"`
	PID       int    `json:"pid"`
	// StartTime identifies the process instance behind PID (Linux: start
	// time in clock ticks since boot; Windows: creation time).
	StartTime uint64 `json:"start_time,omitempty"`
	// Nonce is random per grant, so two grants of one process differ.
	Nonce string `json:"nonce"`
}

// Status describes the lease as one reader sees it. It has no JSON form of
// its own: a program that prints it defines its own (tguard's is in
// cmd/tguard/lockcmd.go).
type Status struct {
	Held       bool
	Owner      string
	Hostname   string
	PID        int
	Token      uint64
	AcquiredAt time.Time
	// ExpiresIn estimates the time left until the holder's lease runs out,
	// from the age of its last renewal on this host's clock. It is for
	// people: the protocol never decides anything from it.
	ExpiresIn time.Duration
	LeaseTime time.Duration
	// State is "free", "held", "released", "expired" or "broken", or
	// "unknown" when the holder record cannot be read.
	State string
	// RecordError says why the holder record cannot be read ("" if it can).
	RecordError string
	// Dead is true when this host can prove the holder dead.
	Dead bool
}
