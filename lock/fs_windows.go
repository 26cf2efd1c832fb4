//go:build windows

package lock

import (
	"errors"

	"golang.org/x/sys/windows"
)

// replaceFile renames from over to, through to the disk before it returns.
func replaceFile(from, to string) error {
	f, err := windows.UTF16PtrFromString(from)
	if err != nil {
		return err
	}
	t, err := windows.UTF16PtrFromString(to)
	if err != nil {
		return err
	}
	return windows.MoveFileEx(f, t, windows.MOVEFILE_REPLACE_EXISTING|windows.MOVEFILE_WRITE_THROUGH)
}

// syncDir is a no-op: Windows cannot flush a directory handle, and
// MOVEFILE_WRITE_THROUGH and CreateDirectory on NTFS are journaled.
func syncDir(string) error { return nil }

// isTransient reports whether an error may go away by itself. A sharing
// violation means another client has the file open: busy, retry. An invalid
// handle is what an SMB client reports for a handle lost in a reconnect,
// and what Wine returns when a folder is opened while another process
// removes one of its subfolders (seen in make test-windows): read again.
func isTransient(err error) bool {
	for _, e := range []windows.Errno{
		windows.ERROR_SHARING_VIOLATION, windows.ERROR_LOCK_VIOLATION,
		windows.ERROR_INVALID_HANDLE,
		windows.ERROR_NETNAME_DELETED, windows.ERROR_UNEXP_NET_ERR,
		windows.ERROR_BAD_NETPATH, windows.ERROR_NETWORK_BUSY,
		windows.ERROR_SEM_TIMEOUT,
	} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// notifyWorks is false under Wine: there, a process whose fsnotify watches
// a lease folder (ReadDirectoryChangesW) while others create and remove its
// subfolders was seen to hang, with every other process of the folder, in
// GetFileInformationByHandle and GetVolumeInformationByHandle (make
// test-windows, 8 contenders). Waiters then poll, which alone is correct.
// Wine's ntdll exports wine_get_version; Windows' does not.
func notifyWorks() bool {
	return windows.NewLazySystemDLL("ntdll.dll").NewProc("wine_get_version").Find() != nil
}
