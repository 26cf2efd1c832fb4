package e2e

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

// flock(1)'s conventions: --wait 0 and -n do not wait; the other
// conventions of a command-line tool, and messages that say what is true.
func TestConventions(t *testing.T) {
	root := t.TempDir()
	ix := filepath.Join(root, "index")
	docs := filepath.Join(root, "docs")
	writeFile(t, filepath.Join(docs, "a.txt"), "delta\n")
	require.NoError(t, os.MkdirAll(ix, 0o755))
	h := holder(t, ix, "--owner", "busy")

	for _, args := range [][]string{
		{"index", "--index", ix, "--journal", filepath.Join(root, "j.db"), "--wait", "0", docs},
		{"index", "--index", ix, "--journal", filepath.Join(root, "j.db"), "-n", docs},
		{"flush", "--index", ix, "--journal", filepath.Join(root, "j.db"), "--nonblock"},
		{"lock", "exec", "--index", ix, "--wait", "0", "--", "true"},
		{"lock", "exec", "--index", ix, "-n", "--", "true"},
	} {
		start := time.Now()
		r := tguard(t, nil, args...)
		assert.Equal(t, 75, r.Code, "%v: %s", args, r.Stderr)
		assert.Contains(t, r.Stderr, "busy", "%v names the holder", args)
		assert.Less(t, time.Since(start), 5*time.Second, "%v does not wait", args)
	}
	r := tguard(t, nil, "index", "--index", ix, "-n", "--wait", "1s", docs)
	assert.Equal(t, 2, r.Code, "-n and --wait 1s conflict: %s", r.Stderr)

	// --json on failure: the error on stdout as well as on stderr.
	r = tguard(t, nil, "index", "--index", ix, "--journal", filepath.Join(root, "j.db"), "-n", "--json", docs)
	assert.Equal(t, 75, r.Code)
	var fail struct {
		Error string `json:"error"`
		Code  int    `json:"code"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.Stdout), &fail), "stdout: %q", r.Stdout)
	assert.Equal(t, 75, fail.Code)
	assert.Contains(t, fail.Error, "busy")
	assert.Contains(t, r.Stderr, "busy")

	// lock break on a live holder names the flag.
	r = tguard(t, nil, "lock", "break", "--index", ix)
	assert.Equal(t, 1, r.Code)
	assert.Contains(t, r.Stderr, "--force")
	_ = h

	r = tguard(t, nil, "--version")
	assert.Equal(t, 0, r.Code, r.Stderr)
	assert.True(t, strings.HasPrefix(r.Stdout, "tguard "), r.Stdout)

	r = tguard(t, nil, "help", "bogus")
	assert.Equal(t, 2, r.Code)
	assert.Contains(t, r.Stderr, `unknown help topic "bogus"`)
	assert.Empty(t, r.Stdout)

	for _, sub := range []string{"status", "break"} {
		r = tguard(t, nil, "lock", sub, "--index", filepath.Join(root, "typo"))
		assert.Equal(t, 1, r.Code, "lock %s on a folder that does not exist", sub)
		assert.Contains(t, r.Stderr, "does not exist")
		assert.NotContains(t, r.Stdout, "free")
	}

	r = tguard(t, nil, "help", "index")
	assert.Contains(t, r.Stdout, "(default: the hostname)", "index's owner default is the hostname")
	assert.NotContains(t, r.Stdout, "hostname_pid")

	// A folder given as --journal is named as such, not as a corrupt journal.
	r = tguard(t, nil, "index", "--index", filepath.Join(root, "other"), "--journal", docs, docs)
	assert.Equal(t, 2, r.Code, r.Stderr)
	assert.Contains(t, r.Stderr, "is a folder")
	assert.NotContains(t, r.Stderr, "lost")
}

// The summary's token is the commit's: a flush with nothing to apply
// commits nothing and says so.
func TestFlushSummaryToken(t *testing.T) {
	root := t.TempDir()
	ix := filepath.Join(root, "index")
	writeFile(t, filepath.Join(root, "docs", "a.txt"), "epsilon\n")
	r := tguard(t, nil, "index", "--index", ix, "--json", filepath.Join(root, "docs"))
	require.Equal(t, 0, r.Code, r.Stderr)
	var sum struct {
		Token     uint64
		Committed bool
	}
	require.NoError(t, json.Unmarshal([]byte(r.Stdout), &sum))
	assert.True(t, sum.Committed)
	st := readStats(t, ix)
	assert.Equal(t, st.Token, sum.Token, "the commit's token")

	r = tguard(t, nil, "flush", "--index", ix, "--json")
	require.Equal(t, 0, r.Code, r.Stderr)
	sum = struct {
		Token     uint64
		Committed bool
	}{}
	require.NoError(t, json.Unmarshal([]byte(r.Stdout), &sum))
	assert.False(t, sum.Committed)
	assert.Equal(t, uint64(0), sum.Token, "no commit, no token")
	r = tguard(t, nil, "flush", "--index", ix)
	assert.Contains(t, r.Stdout, "nothing to commit")
	assert.NotContains(t, r.Stdout, "token")
}
