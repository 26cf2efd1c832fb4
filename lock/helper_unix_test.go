//go:build unix

package lock

import (
	"os/exec"
	"syscall"
)

func setUmask(m int) { syscall.Umask(m) }

// transientIOErr is an error isTransient retries: a share's I/O error.
var transientIOErr error = syscall.EIO

// otherHostname wraps a helper in "unshare -u" under hostname.
func otherHostname(hostname string) func(*exec.Cmd) {
	return func(cmd *exec.Cmd) {
		cmd.Args = append([]string{"unshare", "-u", "sh", "-c", `hostname "$0" && exec "$@"`, hostname, cmd.Path}, cmd.Args[1:]...)
		path, err := exec.LookPath("unshare")
		cmd.Path = path
		if err != nil {
			cmd.Err = err
		}
	}
}
