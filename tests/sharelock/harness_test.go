package sharelock_test

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tguard/tguard/tests/smbtest"
	"github.com/tguard/tguard/tests/verifier"
)

const (
	cyclesEnv = "TGUARD_SHARELOCK_CYCLES"
	roundsEnv = "TGUARD_SHARELOCK_ROUNDS"
	keepEnv   = "TGUARD_SHARELOCK_KEEP"
	leaseEnv  = "TGUARD_SHARELOCK_LEASE"

	hostA = "tguard-host-a"
	hostB = "tguard-host-b"

	// exitNotAcquired and exitLeaseLost are tguard's exit codes.
	exitNotAcquired = 75
	exitLeaseLost   = 76

	// procTimeout bounds every contender process; a process that runs
	// longer is killed and the test fails.
	procTimeout = 90 * time.Second
)

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

func envDuration(name string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(os.Getenv(name)); err == nil && d > 0 {
		return d
	}
	return def
}

// env is one share with its two mounts, shared by the subtests, or (share
// nil) a folder on local disk.
type env struct {
	share  *smbtest.Share
	local  string // the local folder when share is nil
	logDir string // process logs; kept when a test fails
}

func newEnv(t *testing.T) *env {
	t.Helper()
	begin := time.Now()
	share := smbtest.Start(t)
	e := &env{share: share, logDir: newLogDir(t)}
	t.Logf("share up in %v: root=%s A=%s B=%s", time.Since(begin).Round(time.Millisecond),
		share.Root, share.MountA, share.MountB)
	return e
}

// newLocalEnv is an env on a local folder.
func newLocalEnv(t *testing.T) *env {
	return &env{local: t.TempDir(), logDir: newLogDir(t)}
}

// newLogDir makes the folder for process logs, removed at the end of t
// unless t failed or TGUARD_SHARELOCK_KEEP=1.
func newLogDir(t *testing.T) string {
	logDir, err := os.MkdirTemp("", "tguard-sharelock-logs-")
	if err != nil {
		t.Fatal(err)
	}
	// Runs before the share's cleanup (registered earlier, run later).
	t.Cleanup(func() {
		if t.Failed() || os.Getenv(keepEnv) == "1" {
			t.Logf("process logs kept in %s", logDir)
			return
		}
		_ = os.RemoveAll(logDir)
	})
	return logDir
}

// fig logs a measurement in a greppable form: FIGURE <name> key=value ...
func fig(t *testing.T, name string, kv ...any) {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "FIGURE %s", name)
	for i := 0; i+1 < len(kv); i += 2 {
		fmt.Fprintf(&b, " %v=%v", kv[i], kv[i+1])
	}
	t.Log(b.String())
}

// contender describes one process.
type contender struct {
	id    string // verifier id; names the log file
	host  string // hostname of its UTS namespace
	mount string // the mount it works through
	// index is the index folder's name inside the share. Empty: the
	// contender runs without tguard and reports fakeToken (a control).
	index     string
	lease     time.Duration
	wait      time.Duration // --wait; 0 for none
	holdMin   time.Duration
	holdMax   time.Duration
	fakeToken uint64
	// skew is tguard's TGUARD_CLOCK_SKEW (its wall clock moved by it);
	// empty for none.
	skew string
}

// proc is a running contender: tguard lock exec (in its own process group
// and UTS namespace) running this test binary as a verifier contender.
type proc struct {
	contender
	cmd     *exec.Cmd
	logPath string
	started time.Time
	ended   time.Time // valid after done is closed
	done    chan struct{}
	err     error // valid after done is closed
}

func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '/' || r == ' ' {
			return '_'
		}
		return r
	}, s)
}

// start starts c, reporting to the verifier at addr. The process is killed
// (with its whole group) when t ends, if it is still running.
func (e *env) start(t *testing.T, addr string, c contender) *proc {
	t.Helper()
	contenderCmd := []string{testBin, "-test.run=^$"}
	var cmd *exec.Cmd
	if c.index != "" {
		args := []string{"--log-level", "info", "lock", "exec",
			"--index", filepath.Join(c.mount, c.index), "--lease", c.lease.String()}
		if c.wait > 0 {
			args = append(args, "--wait", c.wait.String())
		}
		args = append(append(args, "--"), contenderCmd...)
		cmd = tguardBin.Command(args...).Cmd
	} else {
		cmd = exec.Command(contenderCmd[0], contenderCmd[1:]...)
	}
	env := append(verifier.ContenderEnv(addr, c.id),
		verifier.EnvHoldMin+"="+c.holdMin.String(),
		verifier.EnvHoldMax+"="+c.holdMax.String())
	if c.index == "" {
		env = append(env, verifier.EnvToken+"="+strconv.FormatUint(c.fakeToken, 10))
	}
	if c.skew != "" {
		env = append(env, "TGUARD_CLOCK_SKEW="+c.skew)
	}
	// A test binary built with -race sleeps 1 s at exit by default, which
	// would hold the lease for that second after "released".
	env = append(env, "GORACE="+strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	cmd.Env = append(withoutEnv(os.Environ(), verifier.FencingTokenEnv, verifier.EnvToken, "GORACE", "TGUARD_CLOCK_SKEW"), env...)
	if c.host != "" {
		smbtest.OtherHost(c.host, cmd)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}

	dir := filepath.Join(e.logDir, sanitize(t.Name()))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p := &proc{contender: c, cmd: cmd, logPath: filepath.Join(dir, c.id+".log"), done: make(chan struct{})}
	f, err := os.Create(p.logPath)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(f, "# %s on %s via %s: %s\n", c.id, c.host, c.mount, strings.Join(cmd.Args, " "))
	cmd.Stdout, cmd.Stderr = f, f
	p.started = time.Now()
	if err := cmd.Start(); err != nil {
		f.Close()
		t.Fatalf("start %s: %v", c.id, err)
	}
	go func() {
		p.err = cmd.Wait()
		p.ended = time.Now()
		f.Close()
		close(p.done)
	}()
	t.Cleanup(p.stop)
	return p
}

func withoutEnv(env []string, keys ...string) []string {
	out := env[:0:0]
	for _, kv := range env {
		drop := false
		for _, k := range keys {
			drop = drop || strings.HasPrefix(kv, k+"=")
		}
		if !drop {
			out = append(out, kv)
		}
	}
	return out
}

// kill sends SIGKILL to the process's whole group (tguard and its command).
func (p *proc) kill() { _ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL) }

// groupDead waits up to timeout until every process of process group pgid
// is a zombie or gone (as the lock judges a holder dead), and reports
// whether that happened.
func groupDead(pgid int, timeout time.Duration) bool {
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if !groupHasLiving(pgid) {
			return true
		}
	}
	return false
}

// groupHasLiving reports whether a process of group pgid is neither a
// zombie nor gone, from /proc/<pid>/stat ("pid (comm) state ppid pgrp ...").
func groupHasLiving(pgid int) bool {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return true
	}
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) < 3 || f[2] != strconv.Itoa(pgid) {
			continue
		}
		if f[0] != "Z" && f[0] != "X" {
			return true
		}
	}
	return false
}

// stop kills the group if the process still runs and waits for it.
func (p *proc) stop() {
	select {
	case <-p.done:
	default:
		p.kill()
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
		}
	}
	// Whatever else of the group is left (the command of a killed tguard).
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
}

// wait waits for the process to exit, killing it after timeout, and
// returns its exit code (-1 if it was killed by a signal or timed out).
func (p *proc) wait(timeout time.Duration) (code int, timedOut bool) {
	select {
	case <-p.done:
	case <-time.After(timeout):
		p.kill()
		<-p.done
		timedOut = true
	}
	return p.exitCode(), timedOut
}

func (p *proc) exitCode() int {
	var ee *exec.ExitError
	switch {
	case p.err == nil:
		return 0
	case errors.As(p.err, &ee):
		return ee.ExitCode()
	default:
		return -1
	}
}

func (p *proc) log() string {
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return fmt.Sprintf("(log %s: %v)", p.logPath, err)
	}
	return string(b)
}

// grantLine matches tguard's log line of a grant.
var grantLine = regexp.MustCompile(`^time=(\S+) level=INFO msg="lock: acquired" token=(\d+)`)

// grant returns when tguard says it was granted the lease, and the token,
// from its log (millisecond resolution).
func (p *proc) grant() (at time.Time, token uint64, ok bool) {
	f, err := os.Open(p.logPath)
	if err != nil {
		return time.Time{}, 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		m := grantLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		at, err1 := time.Parse(time.RFC3339Nano, m[1])
		tok, err2 := strconv.ParseUint(m[2], 10, 64)
		if err1 == nil && err2 == nil {
			return at, tok, true
		}
	}
	return time.Time{}, 0, false
}

// tookOver reports whether tguard ended an expired, unreadable or dead
// holder's lease ("lock: ended ..." in its log, written after the mkdir
// that decided it).
func (p *proc) tookOver() bool {
	return strings.Contains(p.log(), `msg="lock: ended `)
}

// leaseState renders the lease folder of index as the server's disk and
// both clients see it: every name, with owner.json's content.
func (e *env) leaseState(index string) string {
	var b strings.Builder
	views := []struct{ name, root string }{{"server disk", e.local}}
	if e.share != nil {
		views = []struct{ name, root string }{
			{"server disk", e.share.Root}, {"mount A", e.share.MountA}, {"mount B", e.share.MountB},
		}
	}
	for _, v := range views {
		dir := filepath.Join(v.root, index, ".tguard-lease")
		fmt.Fprintf(&b, "--- %s: find %s\n", v.name, dir)
		out, err := exec.Command("find", dir, "-printf", "%P\t%y\t%TT\n").CombinedOutput()
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		sort.Strings(lines)
		for _, l := range lines {
			fmt.Fprintf(&b, "  %s\n", l)
		}
		if err != nil {
			fmt.Fprintf(&b, "  (find: %v)\n", err)
		}
		if v.name != "server disk" {
			continue
		}
		owners, _ := filepath.Glob(filepath.Join(dir, "*", "owner.json"))
		for _, o := range owners {
			data, err := os.ReadFile(o)
			if err != nil {
				fmt.Fprintf(&b, "  %s: %v\n", o, err)
				continue
			}
			fmt.Fprintf(&b, "  %s: %s\n", strings.TrimPrefix(o, dir+"/"), strings.TrimSpace(string(data)))
		}
	}
	return b.String()
}

// watchViolations snapshots the lease folder of index the moment the
// verifier finds a violation (while the contender that caused it is still
// waiting for the server's answer, so still holds) and keeps the snapshot
// in the log folder. The first few are logged in full.
func (e *env) watchViolations(t *testing.T, srv *verifier.Server, index string) {
	var mu sync.Mutex
	n := 0
	dir := filepath.Join(e.logDir, sanitize(t.Name()))
	_ = os.MkdirAll(dir, 0o755)
	srv.OnViolation(func(v string) {
		mu.Lock()
		n++
		k := n
		mu.Unlock()
		if k > 20 {
			return
		}
		state := fmt.Sprintf("%s\nat %s\n%s", v, time.Now().Format(time.RFC3339Nano), e.leaseState(index))
		_ = os.WriteFile(filepath.Join(dir, fmt.Sprintf("violation-%02d.txt", k)), []byte(state), 0o644)
		if k <= 3 {
			t.Logf("VIOLATION %d, lease state at once:\n%s", k, state)
		}
	})
}

// explain logs every violation with the events around it and the logs of
// the processes that took part, and the lease folder as it is now.
func (e *env) explain(t *testing.T, srv *verifier.Server, index string, procs map[string]*proc) {
	t.Helper()
	rep := srv.Report()
	if len(rep.Violations) == 0 {
		return
	}
	seqRe := regexp.MustCompile(`event #(\d+)`)
	shown := map[string]bool{}
	for i, v := range rep.Violations {
		if i == 10 {
			t.Logf("... %d more violations", len(rep.Violations)-10)
			break
		}
		m := seqRe.FindStringSubmatch(v)
		if m == nil {
			t.Logf("violation: %s", v)
			continue
		}
		seq, _ := strconv.Atoi(m[1])
		ctx := srv.Context(seq, 4)
		t.Logf("violation: %s\nevents around it:\n%s", v, ctx)
		for _, ev := range srv.Events() {
			if ev.Seq < seq-4 || ev.Seq > seq+4 || shown[ev.ID] {
				continue
			}
			if p := procs[ev.ID]; p != nil && p.index != "" {
				shown[ev.ID] = true
				t.Logf("log of %s (pid %d, %s via %s, started %s, ended %s):\n%s", ev.ID, p.cmd.Process.Pid, p.host, p.mount,
					p.started.Format("15:04:05.000000"), p.ended.Format("15:04:05.000000"), p.log())
			}
		}
	}
	t.Logf("lease state now:\n%s", e.leaseState(index))
}

// percentile of sorted durations.
func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	i := int(float64(len(d)-1)*p + 0.5)
	return d[i]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.0fms", float64(d)/float64(time.Millisecond)) }

func sortedDurations(d []time.Duration) []time.Duration {
	out := append([]time.Duration(nil), d...)
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}
