package lock

import (
	"crypto/rand"
	"encoding/hex"
	"os"
)

// randomHex returns n random bytes as hex, for nonces and temporary names.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b)
}

// writeFileAtomic publishes data at path by writing a temporary file next to
// it and renaming it over path, so a reader sees the old file, no file, or
// the whole new one; never a torn one (rename-over was measured to work
// across SMB clients; O_EXCL was not, so nothing relies on it).
func writeFileAtomic(path string, data []byte) error {
	tmp, err := stageFile(path+".tmp-", data)
	if err != nil {
		return err
	}
	if err = replaceFile(tmp, path); err != nil {
		_ = os.Remove(tmp)
	}
	return err
}

// stageFile writes data to a new file whose path is prefix and a random
// suffix, for the caller to rename into place. Nothing is left on failure.
func stageFile(prefix string, data []byte) (string, error) {
	tmp := prefix + randomHex(6)
	// 0666 and the umask decide, as for every file in the index folder:
	// another account sharing the index must be able to take the lease.
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
	if err != nil {
		return "", err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(tmp)
		return "", err
	}
	return tmp, nil
}
