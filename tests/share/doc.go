// Package share holds tests of the file-system primitives the tguard lease
// protocol uses (mkdir, O_EXCL create, rename over, directory listings,
// link, unlink), each run across two client mounts of a real SMB share
// started by tests/smbtest. Every operation on a mount is done by a separate
// process (the test binary re-executed as an agent) in its own UTS and mount
// namespaces, with its own hostname, boot id, machine id and host nonce
// folder (smbtest.OtherHost), so a race is two real processes on two
// "hosts".
//
// TestPrimitives runs the checks on mounts as a user gets them from smbnetfs
// (FUSE caches names and attributes for 1 s); TestPrimitivesNoCache runs them
// again with those caches off (skipped with -short). TGUARD_SHARE_ROUNDS
// changes the number of rounds (200 by default).
//
// Each test asserts what the protocol relies on and logs its measurements
// as lines starting with FIGURE, e.g.
//
//	go test -count=1 -v ./tests/share/ | grep FIGURE
//
// What the protocol does not rely on (flock across clients, O_EXCL of a
// name that exists) is measured by a command, not a test:
//
//	go run ./tests/share/probe
package share
