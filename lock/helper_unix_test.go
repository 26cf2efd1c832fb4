//go:build unix

package lock

import (
	"syscall"
	"testing"
)

func setUmask(m int) { syscall.Umask(m) }

// transientIOErr is an error isTransient retries: a share's I/O error.
var transientIOErr error = syscall.EIO

// skipUnderWine: Wine is a Windows matter.
func skipUnderWine(*testing.T, string) {}
