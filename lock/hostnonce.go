//go:build linux || windows

package lock

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"strings"
)

// The host nonce is what lets a waiter prove that a holder's record was
// written on this very boot of this very machine. Hostname, machine id,
// PID namespace and boot id do not prove it: every Linux host's initial PID
// namespace has the same id, cloned images share a machine id, containers
// often have none. The nonce is random, made once per boot on a file system
// that lives in this kernel's memory (tmpfs or ramfs), so a record carrying
// it can only have been written by a process that could read that file:
// one on this boot of this machine.

// loadHostNonce returns the nonce kept in the file path, making it first if
// there is none. It is made under a temporary name and published by a
// create that never replaces (link on Linux, a rename without replace on
// Windows), so of processes that start together one nonce wins, and every
// reader sees it whole. "" if it can be neither read nor made: then this
// process proves no holder dead.
func loadHostNonce(path string) string {
	n, err := readHostNonce(path)
	if err == nil {
		return n
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return ""
	}
	tmp := path + ".tmp-" + randomHex(6)
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return ""
	}
	_, err = f.WriteString(randomHex(hostNonceBytes) + "\n")
	if err == nil {
		// Host-local state, not the index folder: readable by every
		// account whatever the umask, so all of them share one nonce.
		err = f.Chmod(0o644)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = publishNoReplace(tmp, path)
	}
	_ = os.Remove(tmp)
	if err != nil && !errors.Is(err, fs.ErrExist) {
		return ""
	}
	n, err = readHostNonce(path)
	if err != nil {
		return ""
	}
	return n
}

var errBadHostNonce = errors.New("malformed host nonce")

// readHostNonce reads a nonce file: exactly 32 lower-case hex digits and a
// newline; anything else is no nonce.
func readHostNonce(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 2*hostNonceBytes+2))
	if err != nil {
		return "", err
	}
	s := strings.TrimSuffix(string(b), "\n")
	if len(s) != 2*hostNonceBytes || strings.Trim(s, "0123456789abcdef") != "" {
		return "", errBadHostNonce
	}
	return s, nil
}
