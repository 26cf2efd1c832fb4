//go:build linux

package windows

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
	// One grant first. Under Wine 8 on the smbnetfs mount every rename
	// fails with ERROR_LOCK_VIOLATION (MoveFileEx with any flags, new name
	// or existing, and os.Rename; measured with a probe program), so the
	// owner record can never be published and tguard.exe is never granted
	// there: say so and stop.
	ctx := withTimeout(t, time.Minute)
	out, errOut, code := run(t, wineCmd(ctx, nil, "lock", "exec", "--index", `S:\probe`, "--wait", "15s", "--", "cmd", "/c", "exit", "0"))
	if code != 0 && strings.Contains(errOut, "Lock violation") {
		t.Skip("under Wine on the smbnetfs mount every rename fails with a lock violation, so no grant can be published")
	}
	if code != 0 {
		t.Fatalf("tguard.exe on the share: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	contend(t, filepath.Join(share.MountA, "idx"), `S:\idx`, envInt("TGUARD_WINE_SHARE_CYCLES", 5))
}
