package journal

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// networkDriveEnv names a drive letter that Windows calls DRIVE_REMOTE
// (tests/windows/wine-test.sh maps one under Wine).
const networkDriveEnv = "TGUARD_TEST_NETWORK_DRIVE"

// The journal is refused on UNC paths and network drives, and accepted on
// a local one; the old code (localdisk_other.go) accepted everything.
func TestJournalOnNetworkPathRefused(t *testing.T) {
	for _, dir := range []string{
		`\\server\share\journals`,
		`//server/share/journals`,
		`\\?\UNC\server\share\journals`,
	} {
		err := checkLocalDisk(dir)
		assert.ErrorIs(t, err, ErrOnShare, dir)
	}
	local := t.TempDir()
	require.NoError(t, checkLocalDisk(local))
	require.NoError(t, checkLocalDisk(`\\?\`+local), "a long local path is local")
	assert.False(t, isUNC(`\\.\C:\x`))
}

func TestJournalOnNetworkDriveRefused(t *testing.T) {
	drive := os.Getenv(networkDriveEnv)
	if drive == "" {
		t.Skip(networkDriveEnv + " names no network drive")
	}
	dir := filepath.Join(drive+`\`, "journals")
	_, err := Open(filepath.Join(dir, "j.db"))
	require.ErrorIs(t, err, ErrOnShare)
	assert.Contains(t, err.Error(), "network drive")
	_, statErr := os.Stat(filepath.Join(dir, "j.db"))
	assert.True(t, os.IsNotExist(statErr), "no journal created on the share")
}
