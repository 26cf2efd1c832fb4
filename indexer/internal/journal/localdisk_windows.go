package journal

import (
	"fmt"
	"path/filepath"
	"strings"

	"golang.org/x/sys/windows"
)

// checkLocalDisk refuses a folder on a network drive: a UNC path
// (\\server\share\...) or a path whose volume Windows calls DRIVE_REMOTE (a
// drive letter mapped to a share, or a share mounted in a local folder).
// SQLite's locks are not reliable there, and the journal is each host's own
// anyway.
func checkLocalDisk(dir string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	if isUNC(abs) {
		return fmt.Errorf("%w: %s is a network path", ErrOnShare, dir)
	}
	p, err := windows.UTF16PtrFromString(abs)
	if err != nil {
		return err
	}
	// The volume the folder is on, not its drive letter's: a folder may be
	// a mount point of another volume.
	buf := make([]uint16, windows.MAX_LONG_PATH)
	root := filepath.VolumeName(abs) + `\`
	if err := windows.GetVolumePathName(p, &buf[0], uint32(len(buf))); err == nil {
		root = windows.UTF16ToString(buf)
	}
	if isUNC(root) {
		return fmt.Errorf("%w: %s is on the network volume %s", ErrOnShare, dir, root)
	}
	r, err := windows.UTF16PtrFromString(root)
	if err != nil {
		return err
	}
	if windows.GetDriveType(r) == windows.DRIVE_REMOTE {
		return fmt.Errorf("%w: %s is on a network drive (%s)", ErrOnShare, dir, root)
	}
	return nil
}

// isUNC reports whether p names a network path: \\server\share\... or
// \\?\UNC\server\share\... (\\?\C:\ and \\.\C:\ are local drives).
func isUNC(p string) bool {
	p = strings.ReplaceAll(p, "/", `\`)
	if strings.HasPrefix(strings.ToUpper(p), `\\?\UNC\`) {
		return true
	}
	return strings.HasPrefix(p, `\\`) && !strings.HasPrefix(p, `\\?\`) && !strings.HasPrefix(p, `\\.\`)
}
