package lock

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tguard/tguard/tests/prereq"
)

// Multi-process tests re-execute this test binary as a contender, as Go's
// own lockedfile tests do: TestMain runs the helper named in the environment
// instead of the tests.
const helperEnv = "TGUARD_LOCK_TEST_HELPER"

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		os.Exit(runHelper(mode))
	}
	os.Exit(m.Run())
}

func envDuration(name string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(os.Getenv(name)); err == nil {
		return d
	}
	return def
}

func helperLocker(dir string) (*Locker, error) {
	opts := []Option{WithLeaseDuration(envDuration("LEASE", time.Second))}
	if skew := os.Getenv("SKEW"); skew != "" {
		d, err := time.ParseDuration(skew)
		if err != nil {
			return nil, err
		}
		opts = append(opts, WithClock(SkewedClock(d)))
	}
	if owner := os.Getenv("OWNER"); owner != "" {
		opts = append(opts, WithOwner(owner))
	}
	return New(dir, opts...)
}

// runHelper is the child side. Modes:
//
//	hold   acquire, print "acquired TOKEN", hold (renewing) until stdin
//	       closes, then release and print "released" (or "lost").
//	crash  acquire, print "acquired TOKEN", exit without releasing.
//	cycles acquire and release CYCLES times, appending "A token id" and
//	       "R token id" to the file LOG around a read-modify-write of the
//	       counter in COUNTER. With NOLOCK=1 the lock is skipped (the
//	       control run that must be caught).
//
// UMASK (octal) sets the child's umask first.
func runHelper(mode string) int {
	if mode == "exit" {
		return 0
	}
	if u := os.Getenv("UMASK"); u != "" {
		m, err := strconv.ParseUint(u, 8, 32)
		if err != nil {
			fmt.Fprintln(os.Stderr, "UMASK:", err)
			return 3
		}
		setUmask(int(m))
	}
	dir := os.Getenv("DIR")
	l, err := helperLocker(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 3
	}
	ctx := context.Background()
	switch mode {
	case "hold", "crash":
		lease, err := l.Acquire(ctx)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 3
		}
		fmt.Printf("acquired %d\n", lease.Token())
		if mode == "crash" {
			os.Exit(0) // no release: a crash as far as the lease is concerned
		}
		_, _ = io.Copy(io.Discard, os.Stdin)
		if err := lease.Release(ctx); err != nil {
			fmt.Printf("lost %v\n", err)
			return 0
		}
		fmt.Println("released")
		return 0
	case "cycles":
		return runCycles(l)
	}
	fmt.Fprintln(os.Stderr, "unknown helper mode", mode)
	return 3
}

func runCycles(l *Locker) int {
	n, _ := strconv.Atoi(os.Getenv("CYCLES"))
	nolock := os.Getenv("NOLOCK") == "1"
	logf, err := os.OpenFile(os.Getenv("LOG"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 3
	}
	defer logf.Close()
	me := os.Getpid()
	for i := 0; i < n; i++ {
		var lease *Lease
		token := uint64(0)
		if !nolock {
			lease, err = l.Acquire(context.Background())
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 3
			}
			token = lease.Token()
		}
		// O_APPEND writes of one short line are atomic on a local disk, so
		// the log's order is the order in which holders entered and left.
		fmt.Fprintf(logf, "A %d %d\n", token, me)
		if err := bumpCounter(os.Getenv("COUNTER")); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 3
		}
		fmt.Fprintf(logf, "R %d %d\n", token, me)
		if lease != nil {
			if err := lease.Release(context.Background()); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 3
			}
		}
	}
	return 0
}

// bumpCounter is a deliberately racy read-modify-write: two holders at once
// lose an increment (the DynamoDB lock client's stress test).
func bumpCounter(path string) error {
	b, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	time.Sleep(50 * time.Microsecond)
	return os.WriteFile(path, []byte(strconv.Itoa(n+1)), 0o644)
}

// child is a running helper process.
type child struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string
}

// startChild runs the helper in mode with env. With hostname set, the child
// runs in its own UTS namespace under that hostname: another host, as far as
// the protocol can tell.
func startChild(t *testing.T, mode, hostname string, env ...string) *child {
	t.Helper()
	exe, err := os.Executable()
	require.NoError(t, err)
	var cmd *exec.Cmd
	if hostname != "" {
		if runtime.GOOS != "linux" {
			t.Skip("another hostname needs a Linux UTS namespace (unshare -u)")
		}
		prereq.Root(t, "give a helper another hostname (unshare -u)")
		cmd = exec.Command("unshare", "-u", "sh", "-c", `hostname "$0" && exec "$@"`, hostname, exe)
	} else {
		cmd = exec.Command(exe)
	}
	cmd.Env = append(append(os.Environ(), helperEnv+"="+mode), env...)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	c := &child{cmd: cmd, stdin: stdin, lines: make(chan string, 16)}
	go func() {
		s := bufio.NewScanner(out)
		for s.Scan() {
			c.lines <- s.Text()
		}
		close(c.lines)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return c
}

// expect waits for the child's next line and checks its prefix.
func (c *child) expect(t *testing.T, prefix string, within time.Duration) string {
	t.Helper()
	select {
	case line, ok := <-c.lines:
		require.True(t, ok, "child exited before printing %q", prefix)
		require.True(t, strings.HasPrefix(line, prefix), "child printed %q, want %q", line, prefix)
		return line
	case <-time.After(within):
		t.Fatalf("child did not print %q within %v", prefix, within)
		return ""
	}
}
