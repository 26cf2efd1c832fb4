package journal

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// Magic numbers of network file systems (statfs f_type), and of FUSE, which
// is how smbnetfs and sshfs mount shares.
var networkFS = map[int64]string{
	0x6969:     "NFS",
	0xFF534D42: "CIFS",
	0xFE534D42: "SMB2",
	0x517B:     "SMB",
	0x65735546: "FUSE",
	0x564c:     "NCP",
	0x6B414653: "AFS",
	0x00C36400: "Ceph",
}

// checkLocalDisk refuses a folder on a network file system: SQLite's locks
// are not reliable there, and the journal is each host's own anyway.
func checkLocalDisk(dir string) error {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return err
	}
	if name, ok := networkFS[int64(st.Type)]; ok {
		return fmt.Errorf("%w: %s is on %s", ErrOnShare, dir, name)
	}
	return nil
}
