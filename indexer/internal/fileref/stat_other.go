//go:build !unix

package fileref

import "os"

// statExtra: no change time or inode here; size and modification time
// (and the hash of racy files) are what tell a change.
func statExtra(os.FileInfo) (ctimeNs int64, ino uint64) { return 0, 0 }
