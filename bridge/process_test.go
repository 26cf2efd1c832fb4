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

func TestSecondWriterOtherProcessIsBusy(t *testing.T) {
	ix, dir := newIndex(t)

	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"="+dir)
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })

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
		t.Fatal("helper process did not report ready")
	}

	_, err = ix.Writer(mb15, 1)
	require.ErrorIs(t, err, ErrWriterLockBusy)

	require.NoError(t, stdin.Close()) // helper closes its writer and exits
	require.NoError(t, cmd.Wait())
	w, err := ix.Writer(mb15, 1)
	require.NoError(t, err, "lock must be free once the other process let go")
	require.NoError(t, w.Close())
}
