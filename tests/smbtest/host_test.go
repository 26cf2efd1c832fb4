package smbtest_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tguard/tguard/lock"
	"github.com/tguard/tguard/tests/helperproc"
	"github.com/tguard/tguard/tests/smbtest"
)

// The test binary's helper roles (tests/helperproc), on the lease folder
// DIR: "hold" takes the lease and exits without releasing it (a crashed
// holder), "judge" reports what this host can tell about the holder and
// tries once to take the lease.
func TestMain(m *testing.M) {
	helperproc.Main(helperproc.Roles{"hold": roleHold, "judge": roleJudge})
	os.Exit(m.Run())
}

type verdict struct {
	Dead    bool   `json:"dead"`
	Granted bool   `json:"granted"`
	Error   string `json:"error,omitempty"`
}

func helperLocker() (*lock.Locker, error) {
	return lock.New(helperproc.Value("DIR"), lock.WithLeaseDuration(30*time.Second))
}

func roleHold() error {
	l, err := helperLocker()
	if err != nil {
		return err
	}
	_, err = l.TryAcquire(context.Background())
	return err // never released
}

func roleJudge() error {
	l, err := helperLocker()
	if err != nil {
		return err
	}
	ctx := context.Background()
	var v verdict
	s, err := l.Status(ctx)
	if err != nil {
		return err
	}
	v.Dead = s.Dead
	if lease, err := l.TryAcquire(ctx); err == nil {
		v.Granted = true
		_ = lease.Release(ctx)
	} else if !errors.Is(err, lock.ErrHeld) {
		v.Error = err.Error()
	}
	return json.NewEncoder(os.Stdout).Encode(v)
}

// onHost runs role on the lease folder dir on the simulated host (the real
// one if host is "").
func onHost(t *testing.T, role, host, dir string) *exec.Cmd {
	t.Helper()
	opts := []helperproc.Option{helperproc.Param("DIR", dir)}
	if host != "" {
		opts = append(opts, helperproc.Prepare(func(cmd *exec.Cmd) { smbtest.OtherHost(host, cmd) }))
	}
	cmd, err := helperproc.Command(role, opts...)
	require.NoError(t, err)
	return cmd
}

// hostView is what a process sees of the host it runs on.
type hostView struct {
	hostname, bootID, machineID, nonceDir, nonceFS, probe string
}

// look runs a shell on host (as smbtest.OtherHost makes it) that reports
// the host's identity and the probe file in its nonce folder, then writes
// write into that probe if write is not empty.
func look(t *testing.T, host, write string) hostView {
	t.Helper()
	script := `hostname; cat /proc/sys/kernel/random/boot_id /etc/machine-id; echo "$TGUARD_HOST_NONCE_DIR"
stat -f -c %T "$TGUARD_HOST_NONCE_DIR"; cat "$TGUARD_HOST_NONCE_DIR/probe" 2>/dev/null || echo none
if [ -n "$1" ] && [ -n "$TGUARD_HOST_NONCE_DIR" ]; then echo "$1" > "$TGUARD_HOST_NONCE_DIR/probe"; fi`
	cmd := exec.Command("sh", "-c", script, "sh", write)
	smbtest.OtherHost(host, cmd)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	f := strings.Split(strings.TrimSpace(string(out)), "\n")
	require.Len(t, f, 6, "%s", out)
	return hostView{f[0], f[1], f[2], f[3], f[4], f[5]}
}

func readTrim(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return strings.TrimSpace(string(b))
}

// Each simulated host has its own boot id, machine id and per-boot memory
// folder (where the host nonce is kept); processes of one host share them.
// So a crashed holder is proved dead by a process of its own host and by
// no other, and the test process's own identity is untouched.
func TestOtherHostIdentity(t *testing.T) {
	smbtest.Need(t)
	ownBoot, ownMachine := readTrim(t, "/proc/sys/kernel/random/boot_id"), readTrim(t, "/etc/machine-id")
	_, err := os.Stat(filepath.Join(smbtest.HostNonceDir, "probe"))
	require.ErrorIs(t, err, os.ErrNotExist, "a probe file in the real %s", smbtest.HostNonceDir)

	const a, b = "tguard-id-a", "tguard-id-b"
	a1 := look(t, a, "written on "+a)
	a2 := look(t, a, "")
	b1 := look(t, b, "")
	t.Logf("host a: %+v; again: %+v; host b: %+v", a1, a2, b1)

	assert.Equal(t, a, a1.hostname)
	assert.Equal(t, b, b1.hostname)
	assert.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, a1.bootID)
	assert.Regexp(t, `^[0-9a-f]{32}$`, a1.machineID)
	for _, v := range []hostView{a1, a2, b1} {
		assert.Equal(t, smbtest.HostNonceDir, v.nonceDir)
		assert.Equal(t, "tmpfs", v.nonceFS, "the nonce folder must be a per-boot memory file system")
	}
	// Same host: same identity, same nonce folder.
	assert.Equal(t, a1.bootID, a2.bootID)
	assert.Equal(t, a1.machineID, a2.machineID)
	assert.Equal(t, "none", a1.probe)
	assert.Equal(t, "written on "+a, a2.probe, "a second process of host a sees its nonce folder")
	// Another host, and the real one: different.
	for _, id := range []string{ownBoot, b1.bootID} {
		assert.NotEqual(t, a1.bootID, id)
	}
	assert.NotEqual(t, ownBoot, b1.bootID)
	for _, id := range []string{ownMachine, b1.machineID} {
		assert.NotEqual(t, a1.machineID, id)
	}
	assert.NotEqual(t, ownMachine, b1.machineID)
	assert.Equal(t, "none", b1.probe, "host b must not see host a's nonce folder")
	_, err = os.Stat(filepath.Join(smbtest.HostNonceDir, "probe"))
	assert.ErrorIs(t, err, os.ErrNotExist, "host a wrote into the real %s", smbtest.HostNonceDir)
	assert.Equal(t, ownBoot, readTrim(t, "/proc/sys/kernel/random/boot_id"), "the test's own boot id changed")
	assert.Equal(t, ownMachine, readTrim(t, "/etc/machine-id"), "the test's own machine id changed")

	// Death verdicts (lock/, with the host nonce): a holder of host a that
	// exited without releasing is proved dead on host a only.
	dir := t.TempDir()
	out, err := onHost(t, "hold", a, dir).CombinedOutput()
	require.NoError(t, err, "%s", out)
	judge := func(host string) verdict {
		out, err := onHost(t, "judge", host, dir).Output()
		require.NoError(t, err, "%s", out)
		var v verdict
		require.NoError(t, json.Unmarshal(out, &v), "%s", out)
		require.Empty(t, v.Error)
		return v
	}
	assert.Equal(t, verdict{}, judge(b), "host b proved host a's holder dead")
	assert.Equal(t, verdict{}, judge(""), "the real host proved host a's holder dead")
	assert.Equal(t, verdict{Dead: true, Granted: true}, judge(a), "host a must prove its own crashed holder dead")
}
