//go:build linux

package windows

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/tguard/tguard/tests/smbtest"
)

// The proof harness's Samba share (tests/smbtest), mounted by two
// independent SMB clients: Linux tguard works through mount A, tguard.exe
// through mount B, which Wine sees as drive S:. tguard.exe's Windows API
// calls become Wine's Unix calls on an SMB client mount: real SMB
// semantics underneath, but not a Windows SMB client (see the README).
func TestCrossPlatformContentionOnShare(t *testing.T) {
	if linuxExe == "" {
		t.Skip("TGUARD_LINUX_EXE names no Linux tguard")
	}
	prefix := os.Getenv("WINEPREFIX")
	if prefix == "" {
		t.Skip("WINEPREFIX is not set (wine-test.sh sets it)")
	}
	share := smbtest.Start(t)
	drive := filepath.Join(prefix, "dosdevices", "s:")
	_ = os.Remove(drive)
	if err := os.Symlink(share.MountB, drive); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Remove(drive) })
	if err := os.Mkdir(filepath.Join(share.MountA, "idx"), 0o777); err != nil {
		t.Fatal(err)
	}
	contend(t, filepath.Join(share.MountA, "idx"), `S:\idx`, envInt("TGUARD_WINE_SHARE_CYCLES", 5))
}
