// Package fileref is what the journal keeps of a file instead of a copy
// of its content, and the rule that decides whether the file is still
// that content (docs/PROTOCOL.md, "File references in the journal").
package fileref

import (
	"bytes"
	"crypto/sha256"
	"os"
	"time"
)

// RacyWindow is how close to the moment a file was journaled its
// modification time may be before its size and times no longer prove its
// content: a write in the same timestamp tick as the journaling (or on a
// file system with coarse timestamps) leaves them unchanged. Such a file's
// content hash is journaled too and compared instead (git's "racy
// timestamps" rule).
const RacyWindow = 3 * time.Second

// Ref is what the journal keeps of a file instead of a copy of its
// content: the file is the durable copy for as long as it is unchanged.
// Unchanged means the same size, modification and change times and inode
// (a write, a truncation, a rename over it or a touch back in time each
// change one of them), and, for a racy file (modified within RacyWindow
// of being journaled), the same SHA-256 of its content.
type Ref struct {
	Size    int64
	MtimeNs int64
	CtimeNs int64 // 0 where the platform has none
	Ino     uint64
	Hash    []byte // SHA-256 of the content, for racy files only
	SeenNs  int64  // when it was journaled (wall clock, ns)
}

// Of is the reference of a file as fi shows it, seen at now.
func Of(fi os.FileInfo, now time.Time) Ref {
	r := Ref{Size: fi.Size(), MtimeNs: fi.ModTime().UnixNano(), SeenNs: now.UnixNano()}
	r.CtimeNs, r.Ino = statExtra(fi)
	return r
}

// SameStat says whether fi shows the file r names, unchanged as far as its
// size, times and inode tell.
func (r Ref) SameStat(fi os.FileInfo) bool {
	o := Of(fi, time.Time{})
	return o.Size == r.Size && o.MtimeNs == r.MtimeNs && o.CtimeNs == r.CtimeNs && o.Ino == r.Ino
}

// Racy says whether the file was modified so close to being journaled that
// its times cannot prove its content.
func (r Ref) Racy() bool {
	return r.MtimeNs >= r.SeenNs-int64(RacyWindow) || r.CtimeNs >= r.SeenNs-int64(RacyWindow)
}

// Matches says whether content, read from a file whose stat was fi before
// and after the read, is the content r names.
func (r Ref) Matches(fi os.FileInfo, content []byte) bool {
	if !r.SameStat(fi) {
		return false
	}
	return r.Hash == nil || bytes.Equal(r.Hash, Hash(content))
}

// SameStat says whether two readings of a file's state show it unchanged.
func SameStat(a, b os.FileInfo) bool { return Of(a, time.Time{}).SameStat(b) }

// Hash is the SHA-256 a reference keeps of a racy file's content.
func Hash(b []byte) []byte {
	h := sha256.Sum256(b)
	return h[:]
}
