//go:build unix

package fileref

import (
	"os"
	"syscall"
)

// statExtra is the file's change time (ns) and inode number.
func statExtra(fi os.FileInfo) (ctimeNs int64, ino uint64) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0
	}
	return ctimeOf(st), uint64(st.Ino)
}
