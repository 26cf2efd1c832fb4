//go:build unix

package lock

import "syscall"

func setUmask(m int) { syscall.Umask(m) }

// transientIOErr is an error isTransient retries: a share's I/O error.
var transientIOErr error = syscall.EIO
