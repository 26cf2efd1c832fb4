package smbtest_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tguard/tguard/tests/smbtest"
)

func TestStartStop(t *testing.T) {
	var share *smbtest.Share
	var mounts []string
	t.Run("start", func(t *testing.T) {
		begin := time.Now()
		share = smbtest.Start(t)
		t.Logf("FIGURE smb_start seconds=%.2f", time.Since(begin).Seconds())
		mounts = []string{filepath.Dir(filepath.Dir(share.MountA)), filepath.Dir(filepath.Dir(share.MountB))}

		// Same folder, three views.
		require.NoError(t, os.WriteFile(filepath.Join(share.MountA, "a.txt"), []byte("from A"), 0o644))
		got, err := os.ReadFile(filepath.Join(share.MountB, "a.txt"))
		require.NoError(t, err)
		assert.Equal(t, "from A", string(got))
		got, err = os.ReadFile(filepath.Join(share.Root, "a.txt"))
		require.NoError(t, err)
		assert.Equal(t, "from A", string(got))

		// The two mounts are different file systems (two clients).
		var a, b, r os.FileInfo
		a, err = os.Stat(share.MountA)
		require.NoError(t, err)
		b, err = os.Stat(share.MountB)
		require.NoError(t, err)
		r, err = os.Stat(share.Root)
		require.NoError(t, err)
		assert.False(t, os.SameFile(a, b), "MountA and MountB must be distinct mounts")
		assert.False(t, os.SameFile(a, r), "MountA must not be the local folder")

		// OtherHost gives the command its own hostname.
		cmd := exec.Command("cat", "/proc/sys/kernel/hostname")
		smbtest.OtherHost("tguard-host-a", cmd)
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, string(out))
		assert.Equal(t, "tguard-host-a", strings.TrimSpace(string(out)))
		mine, _ := os.Hostname()
		assert.NotEqual(t, "tguard-host-a", mine, "the test's own hostname must not change")

		// Both mounts work inside a simulated host's mount namespace.
		cmd = exec.Command("sh", "-c", `cat "$0/a.txt" && echo "from host a" > "$1/b.txt"`, share.MountB, share.MountA)
		smbtest.OtherHost("tguard-host-a", cmd)
		out, err = cmd.CombinedOutput()
		require.NoError(t, err, string(out))
		assert.Equal(t, "from A", string(out))
		got, err = os.ReadFile(filepath.Join(share.MountB, "b.txt"))
		require.NoError(t, err)
		assert.Equal(t, "from host a\n", string(got))
	})
	// The subtest's cleanup has run: nothing is left.
	if share == nil {
		return
	}
	mountinfo, err := os.ReadFile("/proc/self/mountinfo")
	require.NoError(t, err)
	for _, m := range mounts {
		assert.NotContains(t, string(mountinfo), m+" ", "mount left behind")
	}
	_, err = os.Stat(share.Dir)
	assert.True(t, os.IsNotExist(err), "temporary folder left behind: %s", share.Dir)
	out, _ := exec.Command("pgrep", "-f", share.Dir).Output()
	assert.Empty(t, strings.TrimSpace(string(out)), "processes left behind")
}

func TestAvailable(t *testing.T) {
	err := smbtest.Available()
	if err != nil {
		// One line saying what is missing: a package to install, or root.
		msg := err.Error()
		assert.True(t, strings.HasPrefix(msg, "needs "), msg)
		if strings.HasPrefix(msg, "needs root") {
			assert.Contains(t, msg, "run make test as root")
		} else {
			assert.Contains(t, msg, "package")
		}
		assert.NotContains(t, msg, "\n")
	}
	t.Logf("Available: %v", err)
}
