package bridge

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tguard/tguard/tests/helperproc"
)

// helperRoles are the roles this test binary plays when re-executed as a
// helper process (tests/helperproc); platform files add theirs in init.
var helperRoles = helperproc.Roles{"writer": roleWriter}

func TestMain(m *testing.M) {
	helperproc.Main(helperRoles)
	os.Exit(m.Run())
}

// roleWriter opens a writer on the index DIR, prints "ready", and holds the
// writer until stdin closes.
func roleWriter() error {
	ix, err := Open(helperproc.Value("DIR"))
	if err != nil {
		return err
	}
	defer ix.Close()
	w, err := ix.Writer(mb15, 1)
	if err != nil {
		return err
	}
	helperproc.Printf("ready")
	helperproc.AwaitStop()
	return w.Close()
}

// startHelper runs role on the index folder dir and waits until it prints
// "ready". The helper stops when its stdin is closed, or is killed at the
// test's end.
func startHelper(t *testing.T, role, dir string) *helperproc.Proc {
	t.Helper()
	p := helperproc.StartTest(t, role, helperproc.Param("DIR", dir))
	p.Expect(t, "ready", 60*time.Second)
	return p
}

func TestSecondWriterOtherProcessIsBusy(t *testing.T) {
	ix, dir := newIndex(t)
	p := startHelper(t, "writer", dir)

	_, err := ix.Writer(mb15, 1)
	require.ErrorIs(t, err, ErrWriterLockBusy)

	require.NoError(t, p.CloseStdin()) // helper closes its writer and exits
	require.NoError(t, p.Wait(60*time.Second))
	w, err := ix.Writer(mb15, 1)
	require.NoError(t, err, "lock must be free once the other process let go")
	require.NoError(t, w.Close())
}
