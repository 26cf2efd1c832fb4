// Package sharelock tests the tguard lease on a real SMB share (started by
// tests/smbtest and mounted twice through two smbnetfs clients), with every
// contender a real "tguard lock exec" process. The command each tguard runs
// is this test binary re-executed as a contender of tests/verifier: it
// reports "acquired <id> <TGUARD_FENCING_TOKEN>" to a verifier server, holds
// for a moment, reports "released", and exits. The server sees the true
// order of those reports and records any overlap, foreign release or token
// that does not grow.
//
// Contenders on mount A run as simulated host tguard-host-a, those on mount
// B as tguard-host-b (smbtest.OtherHost: each hostname with its own boot id,
// machine id and host nonce; only the PID namespace is shared): different
// hosts as far as the protocol can tell. Where a test needs more hosts than
// mounts (waiters that must not share the dead holder's host), they get
// names of their own (tguard-host-a2, ...).
//
// The subtests of TestShareLock:
//
//	racing                 4 loops (2 per mount) of tguard lock exec --lease 2s
//	control                the same loops without tguard: must be caught
//	dead_holder            holder killed (SIGKILL); 4 waiters on other hosts
//	dead_holder_same_host  the same with a waiter on the holder's host
//	live_holder            waiters with --wait 3s exit 75 naming the holder
//
// Environment:
//
//	TGUARD_SHARELOCK_CYCLES  cycles per contender loop in the racing test (100)
//	TGUARD_SHARELOCK_ROUNDS  rounds of the dead-holder tests (5)
//	TGUARD_SHARELOCK_LEASE   --lease of the racing test (2s)
//	TGUARD_SHARELOCK_KEEP=1  keep the process logs even when the test passes
//
// Measurements are logged as lines starting with FIGURE:
//
//	go test -count=1 -v ./tests/sharelock/ | grep FIGURE
package sharelock
