// Package lock is a lease lock for one folder that several processes, on one
// host or on several hosts sharing the folder over SMB or NFS, use to take
// turns as the single writer of what the folder holds (a Tantivy index).
//
// A Locker (New) grants a Lease (Acquire waits, TryAcquire tries once and
// fails with a *HeldError naming the holder). The lease carries a fencing
// token that is strictly greater than every token granted before for the
// same folder (WithTokenFloor also keeps it above the guarded data's last
// commit), and a renewal loop keeps it alive. When the lease can no longer
// be proven valid (a renewal failed, the share stopped answering, the
// process was paused past its deadline, or, with WithStallTimeout, the
// guarded work stopped calling Lease.Progress) Lease.Done is closed and
// Lease.Context cancelled before any other process may be granted the
// lease, and the holder must stop writing at once. Lease.Check, called
// before each write that matters, also catches a deadline that passed
// before the watchdog noticed; Lease.Remaining is the time left on this
// process's clock. Locker.Status reads the lease for people;
// Locker.Break ends a holder's lease when it is provably dead (or with
// force).
//
// Where the lease lives is a Backend. The default file backend
// (filebackend.go, layout.go, record.go) grants by mkdir of a generation
// folder inside the guarded folder, the one primitive measured to be
// exclusive across clients of a network share; it never trusts another
// machine's wall clock: a waiter judges expiry on its own monotonic clock
// (clock_*.go), and proves a holder on its own host dead from the holder's
// identity (identity_*.go, hostnonce_*.go). WithEtcd selects the etcd
// backend (etcd*.go), whose grants are an etcd session's mutex;
// WithBackend takes any other. docs/PROTOCOL.md in the repository gives the
// records, the transitions and the safety argument.
//
// The API follows etcd's client/v3/concurrency: context everywhere, a Done
// channel, functional options validated by New, sentinel errors for
// errors.Is (ErrHeld, ErrLeaseLost, ErrStalled, ErrReleased,
// ErrNotProvablyDead, ErrNotFolder). Logging goes to a *slog.Logger given
// with WithLogger; the package is silent by default.
package lock
