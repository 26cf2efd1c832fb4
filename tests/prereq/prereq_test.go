package prereq_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tguard/tguard/tests/prereq"
)

// The helper: a test that is missing something, run in a child process.
func TestMissingHelper(t *testing.T) {
	if os.Getenv("PREREQ_HELPER") != "1" {
		t.Skip("helper process only")
	}
	prereq.Missing(t, "needs a unicorn: make deps")
}

// Missing skips with its one line, and fails with it under
// TGUARD_REQUIRE_ALL=1.
func TestMissing(t *testing.T) {
	exe, err := os.Executable()
	require.NoError(t, err)
	run := func(requireAll string) (string, error) {
		cmd := exec.Command(exe, "-test.run", "^TestMissingHelper$", "-test.v")
		cmd.Env = append(os.Environ(), "PREREQ_HELPER=1", prereq.RequireAllEnv+"="+requireAll)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}

	out, err := run("")
	require.NoError(t, err, out)
	assert.Contains(t, out, "--- SKIP: TestMissingHelper")
	assert.Contains(t, out, "needs a unicorn: make deps")

	out, err = run("1")
	require.Error(t, err, out)
	assert.Contains(t, out, "--- FAIL: TestMissingHelper")
	assert.Contains(t, out, "needs a unicorn: make deps (TGUARD_REQUIRE_ALL=1")
	assert.Equal(t, 1, strings.Count(out, "needs a unicorn"), out)
}

// The helper: a long test, run in a child process.
func TestLongHelper(t *testing.T) {
	if os.Getenv("PREREQ_HELPER") != "1" {
		t.Skip("helper process only")
	}
	prereq.Long(t, "counts to a million")
	t.Log("RAN")
}

// Long skips with one line unless TGUARD_LONG=1 or TGUARD_REQUIRE_ALL=1 asks
// for it, and always under -short.
func TestLong(t *testing.T) {
	exe, err := os.Executable()
	require.NoError(t, err)
	run := func(long, requireAll string, short bool) string {
		args := []string{"-test.run", "^TestLongHelper$", "-test.v"}
		if short {
			args = append(args, "-test.short")
		}
		cmd := exec.Command(exe, args...)
		cmd.Env = append(os.Environ(), "PREREQ_HELPER=1", prereq.LongEnv+"="+long, prereq.RequireAllEnv+"="+requireAll)
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s", out)
		return string(out)
	}
	out := run("", "", false)
	assert.Contains(t, out, "long test (counts to a million): runs under make test, or set TGUARD_LONG=1")
	assert.NotContains(t, out, "RAN")
	assert.Contains(t, run("1", "", false), "RAN")
	assert.Contains(t, run("", "1", false), "RAN")
	out = run("1", "1", true)
	assert.Contains(t, out, "not under -short")
	assert.NotContains(t, out, "RAN")
}
