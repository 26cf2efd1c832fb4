//go:build linux

package windows

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tguard/tguard/tests/testbin"
	"github.com/tguard/tguard/tests/verifier"
)

// side is one platform's way to run tguard lock exec on the shared folder.
type side struct {
	name string
	// exec returns tguard lock exec on dir with args, running the contender.
	exec func(ctx context.Context, dir string, env []string, args ...string) *testbin.Cmd
}

var (
	linuxSide = side{"linux", func(ctx context.Context, dir string, env []string, args ...string) *testbin.Cmd {
		a := append(append([]string{"lock", "exec", "--index", dir}, args...), "--", contenderLinux)
		return linuxCmd(ctx, env, a...)
	}}
	wineSide = side{"windows", func(ctx context.Context, dir string, env []string, args ...string) *testbin.Cmd {
		if len(dir) < 2 || dir[1] != ':' {
			dir = winPath(dir) // a Linux path; else already a drive letter's
		}
		a := append(append([]string{"lock", "exec", "--index", dir}, args...), "--", winPath(contenderWin))
		return wineCmd(ctx, env, a...)
	}}
)

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// Linux tguard and Windows tguard.exe processes take turns on one folder;
// the proof harness's verifier sees every grant and release: never two
// holders, tokens strictly growing, and both platforms granted.
func TestCrossPlatformContention(t *testing.T) {
	if linuxExe == "" {
		t.Skip("TGUARD_LINUX_EXE names no Linux tguard")
	}
	dir := t.TempDir()
	contend(t, dir, dir, envInt("TGUARD_WINE_CYCLES", 12))
}

// contend runs two Linux and two Windows workers, cycles lock exec runs
// each, on the folder that Linux names linuxDir and Windows winDir.
func contend(t *testing.T, linuxDir, winDir string, cycles int) {
	ctx := withTimeout(t, 10*time.Minute)
	srv := verifier.Start(t)
	var wg sync.WaitGroup
	for i, s := range []side{linuxSide, wineSide, linuxSide, wineSide} {
		id := fmt.Sprintf("%s-%d", s.name, i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			env := append(verifier.ContenderEnv(srv.Addr(), id),
				verifier.EnvHoldMin+"=20ms", verifier.EnvHoldMax+"=100ms")
			dir := linuxDir
			if s.name == "windows" {
				dir = winDir
			}
			for range cycles {
				out, errOut, code := run(t, s.exec(ctx, dir, env, "--lease", "10s"))
				if !assert.Equal(t, 0, code, "%s: stdout %s stderr %s", id, out, errOut) {
					return
				}
				if s.name == "linux" {
					// A Linux tguard starts in milliseconds, tguard.exe
					// under Wine in a few hundred: without a pause the
					// Linux workers would finish before Wine's begin.
					time.Sleep(300 * time.Millisecond)
				}
			}
		}()
	}
	wg.Wait()
	rep := srv.Report()
	switches := 0
	ev := srv.Events()
	for i := 1; i < len(ev); i++ {
		if ev[i].Kind == "acquired" && platformOf(ev[i].ID) != platformOf(ev[i-1].ID) {
			switches++
		}
	}
	t.Logf("FIGURE cross_platform_contention cycles=%d violations=%d platform_switches=%d", rep.Cycles, len(rep.Violations), switches)
	assert.Empty(t, rep.Violations)
	assert.Equal(t, 4*cycles, rep.Cycles)
	assert.Greater(t, switches, 2, "the two platforms barely took turns")
}

// The control: the same contenders on both platforms without tguard must
// be caught overlapping, or the run above proves nothing.
func TestCrossPlatformContentionControl(t *testing.T) {
	ctx := withTimeout(t, 3*time.Minute)
	srv := verifier.Start(t)
	var wg sync.WaitGroup
	for i, s := range []string{"linux", "windows"} {
		id := fmt.Sprintf("%s-%d", s, i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			env := append(verifier.ContenderEnv(srv.Addr(), id),
				verifier.EnvToken+"=1", verifier.EnvHoldMin+"=2s", verifier.EnvHoldMax+"=2s")
			cmd := exec.CommandContext(ctx, contenderLinux)
			if s == "windows" {
				cmd = exec.CommandContext(ctx, "wine", winPath(contenderWin))
			}
			cmd.Env = append(os.Environ(), env...)
			out, err := cmd.CombinedOutput()
			assert.NoError(t, err, "%s: %s", id, out)
		}()
	}
	wg.Wait()
	rep := srv.Report()
	assert.NotZero(t, rep.Overlaps, "the verifier did not catch unlocked contenders: %v", rep.Violations)
}

func platformOf(id string) string {
	for i := range id {
		if id[i] == '-' {
			return id[:i]
		}
	}
	return id
}

// A holder killed on one side (SIGKILL: for tguard.exe under Wine, the
// process ends as with TerminateProcess; its job object goes with it) is
// taken over by the other side once its lease has expired: neither side
// can prove the other's holder dead, so not before.
func TestCrossPlatformKilledHolderTakenOverByExpiry(t *testing.T) {
	if linuxExe == "" {
		t.Skip("TGUARD_LINUX_EXE names no Linux tguard")
	}
	for _, pair := range [][2]side{{wineSide, linuxSide}, {linuxSide, wineSide}} {
		holder, waiter := pair[0], pair[1]
		t.Run(holder.name+"_killed", func(t *testing.T) {
			ctx := withTimeout(t, 3*time.Minute)
			dir, beats := t.TempDir(), t.TempDir()
			beat := beats + "/holder"
			beatEnv := "TGUARD_HEARTBEAT=" + beat
			if holder.name == "windows" {
				beatEnv = "TGUARD_HEARTBEAT=" + winPath(beat)
			}
			const lease = 3 * time.Second
			h := holder.exec(ctx, dir, []string{beatEnv, "TGUARD_HEARTBEAT_CHILD="}, "--lease", lease.String()).Start(t)
			waitForFiles(t, []string{beat}, 30*time.Second)

			srv := verifier.Start(t)
			w := waiter.exec(ctx, dir, verifier.ContenderEnv(srv.Addr(), "waiter"),
				"--lease", lease.String(), "--wait", "60s")
			var wout safeBuffer
			w.Stdout, w.Stderr = &wout, &wout
			wp := w.Start(t)
			done := make(chan int, 1)
			go func() { <-wp.Done(); done <- wp.ProcessState.ExitCode() }()

			time.Sleep(2 * lease) // the holder renews: the waiter waits
			select {
			case code := <-done:
				t.Fatalf("the waiter ended (exit %d) while the holder lived: %s", code, wout.String())
			default:
			}
			require.NoError(t, h.Process.Signal(syscall.SIGKILL))
			killed := time.Now()
			select {
			case code := <-done:
				waited := time.Since(killed)
				t.Logf("FIGURE cross_platform_takeover holder=%s waited_ms=%d", holder.name, waited.Milliseconds())
				require.Equal(t, 0, code, wout.String())
				// The holder's last renewal was at most lease/3 before the
				// kill; its lease runs from there, plus the safety margin.
				assert.GreaterOrEqual(t, waited, lease-lease/3, "taken over before the lease could have expired")
				assert.Less(t, waited, lease+lease/10+10*time.Second)
			case <-time.After(lease + 40*time.Second):
				t.Fatalf("not taken over within %v of the kill: %s", lease+40*time.Second, wout.String())
			}
			assert.Equal(t, 1, srv.Report().Cycles)
			assert.Empty(t, srv.Report().Violations)
			assert.True(t, heartbeatsStopped([]string{beat}, time.Second), "the killed holder's command still runs")
		})
	}
}
