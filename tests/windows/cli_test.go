//go:build linux

package windows

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func writeDocs(t *testing.T, dir string, docs map[string]string) {
	t.Helper()
	for name, text := range docs {
		p := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
	}
}

// tguard.exe indexes, searches, reports and holds the lease on a folder
// named by a drive letter (and by an extended-length \\?\ path), and the
// Linux tguard reads and appends to the same index, and the other way round.
func TestWineCLI(t *testing.T) {
	ctx := withTimeout(t, 5*time.Minute)
	docs, idx := t.TempDir(), filepath.Join(t.TempDir(), "idx")
	writeDocs(t, docs, map[string]string{
		"a.txt":     "alpha windows mutex",
		"b.txt":     "beta linux",
		"sub/c.txt": "gamma windows",
	})
	out := wineCmd(ctx, nil, "index", "--index", winPath(idx), winPath(docs)).Output(t)
	assert.Contains(t, out, "indexed 3")

	out = wineCmd(ctx, nil, "search", "--index", winPath(idx), "windows").Output(t)
	assert.Contains(t, out, "2 hits")
	assert.Contains(t, out, winPath(filepath.Join(docs, "sub", "c.txt")), "paths are Windows paths")

	var stats struct {
		Docs  int    `json:"docs"`
		Token uint64 `json:"token"`
	}
	out = wineCmd(ctx, nil, "stats", "--json", "--index", winPath(idx)).Output(t)
	require.NoError(t, json.Unmarshal([]byte(out), &stats), out)
	assert.Equal(t, 3, stats.Docs)
	assert.Equal(t, uint64(1), stats.Token)

	out = wineCmd(ctx, nil, "lock", "exec", "--index", winPath(idx), "--", "cmd", "/c", "echo", "token=%TGUARD_FENCING_TOKEN%").Output(t)
	assert.Contains(t, out, "token=2")

	var st struct {
		Held  bool   `json:"held"`
		State string `json:"state"`
		Token uint64 `json:"token"`
	}
	// The extended-length form of the same folder names the same lease.
	out = wineCmd(ctx, nil, "lock", "status", "--json", "--index", `\\?\`+winPath(idx)).Output(t)
	require.NoError(t, json.Unmarshal([]byte(out), &st), out)
	assert.False(t, st.Held)
	assert.Equal(t, "released", st.State)
	assert.Equal(t, uint64(2), st.Token)

	// Linux reads what Windows wrote, appends, and Windows reads it back.
	out = linuxCmd(ctx, nil, "search", "--index", idx, "windows").Output(t)
	assert.Contains(t, out, "2 hits")
	more := t.TempDir()
	writeDocs(t, more, map[string]string{"d.txt": "delta windows from linux"})
	linuxCmd(ctx, nil, "index", "--index", idx, more).Output(t)
	out = wineCmd(ctx, nil, "search", "--index", winPath(idx), "windows").Output(t)
	assert.Contains(t, out, "3 hits")
	out = wineCmd(ctx, nil, "stats", "--json", "--index", winPath(idx)).Output(t)
	require.NoError(t, json.Unmarshal([]byte(out), &stats), out)
	assert.Equal(t, 4, stats.Docs)
	assert.Equal(t, uint64(3), stats.Token, "Linux's grant took the next token")
}

// An index on a network drive is fine (that is the point of tguard), but
// the journal is refused there, with one line. Drive N: is a Wine drive
// of type "network" (GetDriveTypeW: DRIVE_REMOTE), see wine-test.sh.
func TestWineNetworkDrive(t *testing.T) {
	if netDrive == "" {
		t.Skip("TGUARD_WINE_NETDRIVE names no folder mapped as network drive N:")
	}
	ctx := withTimeout(t, 3*time.Minute)
	name := filepath.Base(filepath.Dir(t.TempDir())) // unique per run
	t.Cleanup(func() { os.RemoveAll(filepath.Join(netDrive, name)) })
	docs := t.TempDir()
	writeDocs(t, docs, map[string]string{"a.txt": "on a network drive"})

	_, errOut, code := run(t, wineCmd(ctx, nil, "index", "--index", `N:\`+name+`\idx`,
		"--journal", `N:\`+name+`\journal.db`, winPath(docs)))
	assert.NotEqual(t, 0, code)
	assert.Contains(t, errOut, "journal must be on a local disk")
	assert.Contains(t, errOut, "network drive")
	assert.Equal(t, 1, strings.Count(strings.TrimSpace(errOut), "\n")+1, "one line: %q", errOut)
	_, err := os.Stat(filepath.Join(netDrive, name, "journal.db"))
	assert.True(t, os.IsNotExist(err), "no journal on the share")

	out := wineCmd(ctx, nil, "index", "--index", `N:\`+name+`\idx`, winPath(docs)).Output(t)
	assert.Contains(t, out, "indexed 1")
	out = wineCmd(ctx, nil, "search", "--index", `N:\`+name+`\idx`, "network").Output(t)
	assert.Contains(t, out, "1 hits")
}
