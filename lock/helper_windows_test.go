package lock

import (
	"testing"

	"golang.org/x/sys/windows"
)

// setUmask: Windows has no umask; files get the folder's inherited ACL.
func setUmask(int) {}

// transientIOErr is an error isTransient retries: a share that went away.
var transientIOErr error = windows.ERROR_NETNAME_DELETED

// skipUnderWine skips a test that Wine cannot run, saying why in one line.
// Wine's ntdll exports wine_get_version; Windows' does not.
func skipUnderWine(t *testing.T, why string) {
	if windows.NewLazySystemDLL("ntdll.dll").NewProc("wine_get_version").Find() == nil {
		t.Skip("under Wine: " + why)
	}
}
