package journal

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"runtime"
)

// DefaultPath is where the journal of owner for the index at
// indexDir lives by default: in the user's state folder on the local disk
// ($XDG_STATE_HOME/tguard, or ~/.local/state/tguard; %LocalAppData%\tguard
// on Windows), named by a hash of the index's absolute path and the owner,
// so each (index, owner) pair has its own journal and a rerun finds it.
func DefaultPath(indexDir, owner string) (string, error) {
	abs, err := filepath.Abs(indexDir)
	if err != nil {
		return "", err
	}
	base, err := stateDir()
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(abs + "\x00" + owner))
	return filepath.Join(base, "tguard", "journal-"+hex.EncodeToString(sum[:8])+".db"), nil
}

func stateDir() (string, error) {
	if runtime.GOOS == "windows" {
		return os.UserCacheDir() // %LocalAppData%
	}
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return d, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(home, ".local", "state"), nil
}
