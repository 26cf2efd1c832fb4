// Package lock is a lease lock for one folder that several processes, on one
// host or on several hosts sharing the folder over SMB or NFS, use to take
// turns as the single writer of what the folder holds (a Tantivy index).
//
// A Locker grants a Lease. The lease carries a fencing token that is strictly
// greater than every token granted before for the same folder, and a renewal
// loop keeps it alive. When the lease can no longer be proven valid (a
// renewal failed, the share stopped answering, the process was paused past
// its deadline) Lease.Done is closed before any other process may be granted
// the lease, and the holder must stop writing at once.
//
// The file backend grants by mkdir, the one primitive measured to be
// exclusive across clients of a network share; it never trusts another
// machine's wall clock: a waiter judges expiry on its own monotonic clock.
// docs/PROTOCOL.md in the repository gives the records, the transitions and
// the safety argument.
//
// The API follows etcd's client/v3/concurrency: context everywhere, a Done
// channel, sentinel errors for errors.Is. Logging goes to a *slog.Logger
// given with WithLogger; the package is silent by default.
package lock
