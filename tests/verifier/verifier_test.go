package verifier

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tguard/tguard/tests/helperproc"
)

func TestMain(m *testing.M) {
	// The test binary re-executed as a contender (TestRunContender).
	helperproc.Main(helperproc.Roles{ContenderRole: Contend})
	os.Exit(m.Run())
}

func dial(t *testing.T, s *Server) *Client {
	t.Helper()
	c, err := Dial(s.Addr())
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

func TestCleanCycles(t *testing.T) {
	s := Start(t)
	a, b := dial(t, s), dial(t, s)
	for i := uint64(1); i <= 10; i++ {
		c, id := a, "a"
		if i%2 == 0 {
			c, id = b, "b"
		}
		require.NoError(t, c.Acquired(id, i*3))
		require.NoError(t, c.Released(id, i*3))
	}
	r := s.Report()
	assert.Empty(t, r.Violations)
	assert.Equal(t, 10, r.Acquired)
	assert.Equal(t, 10, r.Cycles)
	assert.Equal(t, []uint64{3, 6, 9, 12, 15, 18, 21, 24, 27, 30}, r.Tokens)
	assert.Empty(t, r.Holders)
	ev := s.Events()
	require.Len(t, ev, 20)
	assert.Equal(t, Event{Seq: 1, At: ev[0].At, Kind: "acquired", ID: "a", Token: 3, Conn: 1}, ev[0])
	assert.Equal(t, "released", ev[19].Kind)
	assert.Equal(t, 2, ev[19].Conn)
}

func TestFlagsOverlap(t *testing.T) {
	s := Start(t)
	a, b := dial(t, s), dial(t, s)
	require.NoError(t, a.Acquired("a", 1))
	require.NoError(t, b.Acquired("b", 2)) // a still holds
	require.NoError(t, a.Released("a", 1))
	require.NoError(t, b.Released("b", 2))
	r := s.Report()
	assert.Equal(t, 1, r.Overlaps)
	require.Len(t, r.Violations, 1)
	assert.Contains(t, r.Violations[0], "overlap: event #2: b acquired token 2 while a (token 1) held")
	assert.Equal(t, 2, r.Cycles, "both releases match a holder: no cascade of violations")
	assert.Zero(t, r.ForeignReleases)
	assert.Zero(t, r.BadTokens)
}

func TestFlagsReacquireBySameContender(t *testing.T) {
	s := Start(t)
	a := dial(t, s)
	require.NoError(t, a.Acquired("a", 1))
	require.NoError(t, a.Acquired("a", 2))
	assert.Equal(t, 1, s.Report().Overlaps)
}

func TestFlagsForeignRelease(t *testing.T) {
	s := Start(t)
	a, b := dial(t, s), dial(t, s)
	require.NoError(t, b.Released("b", 1)) // nobody holds
	require.NoError(t, a.Acquired("a", 5))
	require.NoError(t, b.Released("b", 5)) // a holds, not b
	require.NoError(t, a.Released("a", 4)) // a holds token 5, not 4
	require.NoError(t, a.Released("a", 5)) // fine
	r := s.Report()
	assert.Equal(t, 3, r.ForeignReleases)
	assert.Equal(t, 1, r.Cycles)
	require.Len(t, r.Violations, 3)
	assert.Contains(t, r.Violations[0], "b released token 1 while nobody held")
	assert.Contains(t, r.Violations[1], "b released token 5 while a (token 5) held")
	assert.Contains(t, r.Violations[2], "a released token 4 while a (token 5) held")
	assert.Zero(t, r.Overlaps)
}

func TestFlagsNonIncreasingToken(t *testing.T) {
	s := Start(t)
	a := dial(t, s)
	for _, tok := range []uint64{7, 8, 8, 3, 9} {
		require.NoError(t, a.Acquired("a", tok))
		require.NoError(t, a.Released("a", tok))
	}
	r := s.Report()
	assert.Equal(t, 2, r.BadTokens, "8 after 8 and 3 after 8; 9 is fine")
	require.Len(t, r.Violations, 2)
	assert.Contains(t, r.Violations[0], "a acquired token 8, not greater than token 8 acquired before by a")
	assert.Contains(t, r.Violations[1], "a acquired token 3, not greater than token 8")
	assert.Equal(t, []uint64{7, 8, 8, 3, 9}, r.Tokens)
	assert.Zero(t, r.Overlaps)
	assert.Zero(t, r.ForeignReleases)
}

func TestFirstTokenMayBeZero(t *testing.T) {
	s := Start(t)
	a := dial(t, s)
	require.NoError(t, a.Acquired("a", 0))
	require.NoError(t, a.Released("a", 0))
	require.NoError(t, a.Acquired("a", 0))
	assert.Equal(t, 1, s.Report().BadTokens)
}

func TestMalformedLine(t *testing.T) {
	s := Start(t)
	c, err := net.Dial("tcp", s.Addr())
	require.NoError(t, err)
	defer c.Close()
	r := bufio.NewReader(c)
	for _, line := range []string{"acquired a", "grabbed a 1", "acquired a x", "acquired a 1 2"} {
		_, err := fmt.Fprintf(c, "%s\n", line)
		require.NoError(t, err)
		reply, err := r.ReadString('\n')
		require.NoError(t, err)
		assert.True(t, strings.HasPrefix(reply, "error "), "reply to %q: %q", line, reply)
	}
	rep := s.Report()
	assert.Equal(t, 4, rep.Malformed)
	assert.Len(t, rep.Violations, 4)
	assert.Zero(t, rep.Acquired)
}

func TestClientRejectsBadID(t *testing.T) {
	s := Start(t)
	c := dial(t, s)
	assert.Error(t, c.Acquired("", 1))
	assert.Error(t, c.Acquired("a b", 1))
	assert.Empty(t, s.Events())
}

// Goroutines taking turns under a mutex: no violation. The same without the
// mutex must be caught, or the check proves nothing.
func TestConcurrentContenders(t *testing.T) {
	run := func(locked bool) Report {
		s := Start(t)
		var mu sync.Mutex
		var next uint64
		var wg sync.WaitGroup
		for g := 0; g < 8; g++ {
			c := dial(t, s)
			wg.Add(1)
			go func() {
				defer wg.Done()
				id := fmt.Sprintf("g%d", g)
				for i := 0; i < 50; i++ {
					if locked {
						mu.Lock()
					}
					tok := uint64(i + 1) // what an unlocked contender would make up
					if locked {
						next++
						tok = next
					}
					assert.NoError(t, c.Acquired(id, tok))
					time.Sleep(50 * time.Microsecond)
					assert.NoError(t, c.Released(id, tok))
					if locked {
						mu.Unlock()
					}
				}
			}()
		}
		wg.Wait()
		return s.Report()
	}
	r := run(true)
	assert.Empty(t, r.Violations)
	assert.Equal(t, 400, r.Cycles)
	for i := 1; i < len(r.Tokens); i++ {
		require.Greater(t, r.Tokens[i], r.Tokens[i-1])
	}
	ctl := run(false)
	assert.NotZero(t, ctl.Overlaps, "unlocked goroutines never overlapped")
	assert.NotZero(t, ctl.BadTokens)
}

func TestAwaitAndRecord(t *testing.T) {
	s := Start(t)
	done := make(chan bool)
	go func() {
		done <- s.Await(5*time.Second, func(ev []Event) bool { return len(ev) == 2 })
	}()
	c := dial(t, s)
	require.NoError(t, c.Acquired("holder", 4))
	// The holder is killed; the test says what it can no longer say.
	assert.Equal(t, "released holder 4", s.Record("released holder 4"))
	assert.True(t, <-done)
	r := s.Report()
	assert.Empty(t, r.Violations)
	assert.Equal(t, 1, r.Cycles)
	assert.Equal(t, 0, s.Events()[1].Conn)
	assert.False(t, s.Await(10*time.Millisecond, func(ev []Event) bool { return len(ev) > 2 }))
	assert.Contains(t, s.Context(2, 1), "=> #2")
}

// The contender role in a real process: the test binary re-executed.
func TestRunContender(t *testing.T) {
	s := Start(t)
	run := func(id string, env ...string) error {
		p := helperproc.StartTest(t, ContenderRole, helperproc.Env(ContenderEnv(s.Addr(), id)...), helperproc.Env(env...))
		return p.Wait(time.Minute)
	}
	require.NoError(t, run("p1", FencingTokenEnv+"=11", EnvHoldMin+"=20ms", EnvHoldMax+"=20ms"))
	require.NoError(t, run("p2", EnvToken+"=12"))
	err := run("p3") // no token
	require.Error(t, err)
	assert.Contains(t, err.Error(), "contender p3: neither TGUARD_FENCING_TOKEN nor TGUARD_HELPER_VERIFIER_TOKEN is set")

	ev := s.Events()
	require.Len(t, ev, 4)
	assert.Equal(t, []string{"acquired p1 11", "released p1 11", "acquired p2 12", "released p2 12"},
		[]string{line(ev[0]), line(ev[1]), line(ev[2]), line(ev[3])})
	assert.GreaterOrEqual(t, ev[1].At.Sub(ev[0].At), 20*time.Millisecond, "hold")
	r := s.Report()
	assert.Empty(t, r.Violations)
	assert.Equal(t, 2, r.Cycles)
}

func line(e Event) string { return fmt.Sprintf("%s %s %d", e.Kind, e.ID, e.Token) }

func TestClosedServerRefuses(t *testing.T) {
	s := Start(t)
	c := dial(t, s)
	require.NoError(t, c.Acquired("a", 1))
	s.Close()
	assert.Error(t, c.Released("a", 1))
	_, err := Dial(s.Addr())
	assert.Error(t, err)
}

// The hook runs before the contender that caused the violation gets its
// answer: while it runs, that contender is still blocked.
func TestOnViolationRunsBeforeTheReply(t *testing.T) {
	s := Start(t)
	a, b := dial(t, s), dial(t, s)
	inHook := make(chan string, 1)
	release := make(chan struct{})
	s.OnViolation(func(v string) {
		inHook <- v
		<-release
	})
	require.NoError(t, a.Acquired("a", 1))
	replied := make(chan error, 1)
	go func() { replied <- b.Acquired("b", 2) }()
	assert.Contains(t, <-inHook, "overlap: event #2: b acquired token 2 while a (token 1) held")
	select {
	case err := <-replied:
		t.Fatalf("b got its answer while the hook ran: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	require.NoError(t, <-replied)
	assert.Len(t, s.Report().Violations, 1)
}

// A contender whose parent (tguard) is killed while it holds gives up at
// once, without reporting a release.
func TestContenderLeavesWithItsParent(t *testing.T) {
	s := Start(t)
	exe, err := os.Executable()
	require.NoError(t, err)
	sh := exec.Command("sh", "-c", `"$0" -test.run='^$' & echo $!; wait`, exe)
	sh.Env = append(append(os.Environ(), ContenderEnv(s.Addr(), "orphan")...), EnvToken+"=3", EnvHoldMin+"=30s", EnvHoldMax+"=30s")
	out, err := sh.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, sh.Start())
	var pid int
	_, err = fmt.Fscan(out, &pid)
	require.NoError(t, err)
	require.True(t, s.Await(10*time.Second, func(ev []Event) bool { return len(ev) == 1 }), "no acquired")
	require.NoError(t, sh.Process.Kill())
	_ = sh.Wait()
	deadline := time.Now().Add(5 * time.Second)
	for {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil || strings.Contains(string(b), ") Z ") {
			break // gone, or a zombie waiting for init
		}
		require.True(t, time.Now().Before(deadline), "the contender outlived its parent: %s", b)
		time.Sleep(20 * time.Millisecond)
	}
	r := s.Report()
	assert.Equal(t, 1, r.Acquired)
	assert.Zero(t, r.Cycles, "no release from a contender whose parent died")
	assert.Equal(t, []string{"orphan (token 3)"}, r.Holders)
}
