package bridge

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const helperEnv = "TGUARD_BRIDGE_HELPER_DIR"

// TestHelperProcess is not a real test: it is re-executed as a child process
// (as Go's own os/exec tests do). It opens a writer on the index named by the
// environment, prints "ready", and holds the writer until stdin closes.
func TestHelperProcess(t *testing.T) {
	dir := os.Getenv(helperEnv)
	if dir == "" {
		t.Skip("helper process only")
	}
	ix, err := Open(dir)
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(2)
	}
	w, err := ix.Writer(mb15, 1)
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(3)
	}
	fmt.Println("ready")
	_, _ = io.Copy(io.Discard, os.Stdin)
	_ = w.Close()
	_ = ix.Close()
	os.Exit(0)
}

// startHelper re-executes this test binary as the helper process test
// (one of the TestXxxHelperProcess functions) with env=dir, and waits until
// it prints "ready". The helper stops when stdin is closed, or is killed
// at the test's end.
func startHelper(t *testing.T, test, env, dir string) (stdin io.WriteCloser, cmd *exec.Cmd) {
	t.Helper()
	cmd = exec.Command(os.Args[0], "-test.run=^"+test+"$", "-test.count=1")
	cmd.Env = append(os.Environ(), env+"="+dir)
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = stdin.Close(); _ = cmd.Wait() })

	ready := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		ready <- strings.TrimSpace(line)
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case line := <-ready:
		require.Equal(t, "ready", line)
	case <-time.After(60 * time.Second):
		t.Fatalf("helper process %s did not report ready", test)
	}
	return stdin, cmd
}

func TestSecondWriterOtherProcessIsBusy(t *testing.T) {
	ix, dir := newIndex(t)
	stdin, cmd := startHelper(t, "TestHelperProcess", helperEnv, dir)

	_, err := ix.Writer(mb15, 1)
	require.ErrorIs(t, err, ErrWriterLockBusy)

	require.NoError(t, stdin.Close()) // helper closes its writer and exits
	require.NoError(t, cmd.Wait())
	w, err := ix.Writer(mb15, 1)
	require.NoError(t, err, "lock must be free once the other process let go")
	require.NoError(t, w.Close())
}
