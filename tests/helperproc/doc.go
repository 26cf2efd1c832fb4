// Package helperproc is the one way tguard's tests (and the benchmark) run
// a helper process: a program re-executed as a child in a named role, as
// Go's own os/exec and lockedfile tests do.
//
// The protocol:
//
//   - The role travels in the environment (RoleEnv); the program calls Main
//     first thing (a test binary in TestMain, a command in main), which runs
//     the role and exits, or returns when no role is set.
//   - Parameters travel in the environment too, TGUARD_HELPER_<NAME> (Param
//     on the parent's side, Value on the child's), so that they pass through
//     wrappers that only forward the environment (unshare, strace,
//     tguard lock exec).
//   - The child reports on stdout, one line per event (Printf); the parent
//     reads them in order (Proc.Line, Proc.Expect).
//   - The child takes commands on stdin, one a line, if its role has any;
//     stdin closing means "stop" (AwaitStop).
//   - A role that returns nil exits 0; one that fails says why on stderr,
//     one line, and exits 1. The parent keeps the child's stderr and shows
//     it when the child fails or the test does.
//   - The parent bounds every wait with a timeout and kills the child at the
//     test's end (or at Stop); on Linux the child also dies with the parent.
package helperproc
