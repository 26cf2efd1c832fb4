package lock

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// hostNonce returns this boot's host nonce, or "" when this process can
// keep none. The places, in order: TGUARD_HOST_NONCE_DIR alone when set;
// /run/tguard/host-nonce (made by root, readable by all);
// /dev/shm/tguard-host-nonce (any account; /run is not a tmpfs in most
// containers, /dev/shm is); $XDG_RUNTIME_DIR/tguard-host-nonce (one per
// user). Each must be on a tmpfs or ramfs: a file on disk would outlive the
// boot, or be copied with a cloned disk.
func hostNonce() string {
	if dir := os.Getenv(hostNonceEnv); dir != "" {
		if !inMemory(dir) {
			return ""
		}
		return loadHostNonce(filepath.Join(dir, "host-nonce"))
	}
	if n := runNonce("/run/tguard"); n != "" {
		return n
	}
	for _, dir := range []string{"/dev/shm", os.Getenv("XDG_RUNTIME_DIR")} {
		if dir != "" && inMemory(dir) {
			if n := loadHostNonce(filepath.Join(dir, "tguard-host-nonce")); n != "" {
				return n
			}
		}
	}
	return ""
}

// runNonce uses the folder dir (/run/tguard), making it in its parent when
// that is a tmpfs. Made by us, it is set to 0755 whatever the umask. A dir
// that exists is used if it is on a tmpfs itself (a tmpfs may be mounted
// over it).
func runNonce(dir string) string {
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		if !inMemory(filepath.Dir(dir)) {
			return ""
		}
		if err := os.Mkdir(dir, 0o755); err == nil {
			_ = os.Chmod(dir, 0o755)
		} else if !errors.Is(err, fs.ErrExist) {
			return "" // not root
		}
	}
	if !inMemory(dir) {
		return ""
	}
	return loadHostNonce(filepath.Join(dir, "host-nonce"))
}

// inMemory reports whether dir is on a tmpfs or ramfs: a file system that
// starts empty at every boot and exists on this machine only.
func inMemory(dir string) bool {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return false
	}
	return st.Type == unix.TMPFS_MAGIC || st.Type == unix.RAMFS_MAGIC
}

// publishNoReplace gives the file tmp the name path unless path exists: a
// hard link is an exclusive create of the name, with the content already
// whole.
func publishNoReplace(tmp, path string) error { return os.Link(tmp, path) }
