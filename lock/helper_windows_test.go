package lock

import (
	"os/exec"

	"golang.org/x/sys/windows"
)

// setUmask: Windows has no umask; files get the folder's inherited ACL.
func setUmask(int) {}

// transientIOErr is an error isTransient retries: a share that went away.
var transientIOErr error = windows.ERROR_NETNAME_DELETED

// otherHostname is never called on Windows: startChild skips first.
func otherHostname(string) func(*exec.Cmd) { return func(*exec.Cmd) {} }
