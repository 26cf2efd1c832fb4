package helperproc_test

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tguard/tguard/tests/helperproc"
)

func TestMain(m *testing.M) {
	helperproc.Main(helperproc.Roles{
		// echo prints GREETING, then echoes each stdin line until "quit"
		// or stdin closes, then prints "bye".
		"echo": func() error {
			helperproc.Printf("%s", helperproc.Value("GREETING"))
			in := bufio.NewScanner(os.Stdin)
			for in.Scan() && in.Text() != "quit" {
				helperproc.Printf("echo %s", in.Text())
			}
			helperproc.Printf("bye")
			return nil
		},
		"fail": func() error {
			fmt.Fprintln(os.Stderr, "about to fail")
			return errors.New("it failed")
		},
		"params": func() error {
			d, err := helperproc.DurationValue("D", time.Second)
			if err != nil {
				return err
			}
			n, err := helperproc.IntValue("N", 7)
			if err != nil {
				return err
			}
			helperproc.Printf("%v %d %q %q", d, n, os.Getenv("RAW"), os.Getenv(helperproc.ParamPrefix+"OUTER"))
			return nil
		},
		"sleep": func() error { time.Sleep(time.Minute); return nil },
	})
	os.Exit(m.Run())
}

func TestLinesCommandsAndStop(t *testing.T) {
	p := helperproc.StartTest(t, "echo", helperproc.Param("GREETING", "hello there"))
	p.Expect(t, "hello there", 30*time.Second)
	require.NoError(t, p.Send("one"))
	require.NoError(t, p.Send("two"))
	assert.Equal(t, "echo one", p.Expect(t, "echo", 30*time.Second))
	assert.Equal(t, "echo two", p.Expect(t, "echo", 30*time.Second))
	require.NoError(t, p.CloseStdin())
	p.Expect(t, "bye", 30*time.Second)
	require.NoError(t, p.Wait(30*time.Second))
	assert.Equal(t, 0, p.ExitCode())
	_, err := p.Line(time.Second)
	assert.ErrorIs(t, err, helperproc.ErrExited)
}

func TestFailureCarriesStderr(t *testing.T) {
	p := helperproc.StartTest(t, "fail")
	err := p.Wait(30 * time.Second)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "about to fail")
	assert.Contains(t, err.Error(), "fail (pid ")
	assert.Contains(t, err.Error(), "it failed")
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, 1, ee.ExitCode())
	assert.Equal(t, 1, p.ExitCode())
	_, err = p.Line(time.Second)
	assert.ErrorIs(t, err, helperproc.ErrExited)
	assert.Contains(t, err.Error(), "it failed")
}

func TestUnknownRole(t *testing.T) {
	p := helperproc.StartTest(t, "no-such-role")
	require.Error(t, p.Wait(30*time.Second))
	assert.Equal(t, 2, p.ExitCode())
	assert.Contains(t, p.Stderr(), `unknown role "no-such-role"`)
}

// Parameters arrive typed; raw variables pass as they are; this process's
// own parameters are not passed on to its helpers.
func TestParams(t *testing.T) {
	t.Setenv(helperproc.ParamPrefix+"OUTER", "mine")
	p := helperproc.StartTest(t, "params", helperproc.Param("D", "250ms"), helperproc.Env("RAW=x y"))
	assert.Equal(t, `250ms 7 "x y" ""`, p.Expect(t, "", 30*time.Second))
	require.NoError(t, p.Wait(30*time.Second))

	p = helperproc.StartTest(t, "params", helperproc.Param("N", "many"))
	err := p.Wait(30 * time.Second)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `parameter N="many"`)
}

func TestTimeouts(t *testing.T) {
	p := helperproc.StartTest(t, "sleep")
	start := time.Now()
	_, err := p.Line(200 * time.Millisecond)
	assert.ErrorIs(t, err, helperproc.ErrTimeout)
	err = p.Wait(200 * time.Millisecond)
	assert.ErrorIs(t, err, helperproc.ErrTimeout, "killed after the timeout")
	assert.Less(t, time.Since(start), 20*time.Second)
	assert.Equal(t, -1, p.ExitCode(), "ended by a signal")
}

// A killed child stays a zombie until it is reaped: what a holder's
// waiter sees when the holder's parent has not looked yet.
func TestKilledChildIsNotReapedUntilWait(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("needs /proc")
	}
	p := helperproc.StartTest(t, "sleep")
	require.NoError(t, p.Process().Kill())
	<-p.Exited()
	require.Eventually(t, func() bool {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.Pid()))
		return err == nil && strings.Contains(string(b), ") Z ")
	}, 10*time.Second, 10*time.Millisecond, "a zombie until reaped")
	require.Error(t, p.Wait(30*time.Second))
	_, err := os.Stat(fmt.Sprintf("/proc/%d", p.Pid()))
	assert.True(t, os.IsNotExist(err), "reaped by Wait")
}

func TestCommand(t *testing.T) {
	cmd, err := helperproc.Command("params", helperproc.Param("N", "3"))
	require.NoError(t, err)
	out, err := cmd.Output()
	require.NoError(t, err)
	assert.Equal(t, "1s 3 \"\" \"\"\n", string(out))
}
