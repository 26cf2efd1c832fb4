//go:build !failpoints

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A normal build refuses TGUARD_FAILPOINT with one line, before it
// journals or writes anything: it cannot stop or kill itself at a step,
// and a crash test run against it must fail rather than pass untested.
func TestFailpointRefusedWithoutTag(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_STATE_HOME", filepath.Join(dir, "state"))
	t.Setenv("TGUARD_FAILPOINT", "before-commit:crash")
	doc := filepath.Join(dir, "a.txt")
	require.NoError(t, os.WriteFile(doc, []byte("hello\n"), 0o644))
	index := filepath.Join(dir, "index")

	for _, args := range [][]string{
		{"index", "--index", index, doc},
		{"flush", "--index", index},
	} {
		var stdout, stderr bytes.Buffer
		code := run(args, &stdout, &stderr)
		assert.Equal(t, exitUsage, code, args)
		assert.Equal(t, "tguard: TGUARD_FAILPOINT is set, but this tguard was built without failpoints (go build -tags failpoints)\n",
			stderr.String(), args)
		assert.Equal(t, 1, strings.Count(stderr.String(), "\n"))
	}
	_, err := os.Stat(filepath.Join(dir, "state"))
	assert.ErrorIs(t, err, os.ErrNotExist, "no journal was created")
	_, err = os.Stat(index)
	assert.ErrorIs(t, err, os.ErrNotExist, "no index was created")
}
