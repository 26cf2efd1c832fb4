package share_test

// The agent: the test binary re-executed as a helper process that performs
// file-system operations on one mount, on request from the test. Requests and
// replies are JSON lines on stdin and stdout.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tguard/tguard/tests/helperproc"
	"github.com/tguard/tguard/tests/share"
	"github.com/tguard/tguard/tests/smbtest"
)

// callTimeout bounds every request to an agent.
const callTimeout = 60 * time.Second

// The agent is the helper role "agent" (tests/helperproc) with the
// parameters NAME (its hostname) and ROOT (the mount folder it works in).
func TestMain(m *testing.M) {
	helperproc.Main(helperproc.Roles{"agent": runAgent})
	os.Exit(m.Run())
}

// Req is one operation for an agent. Paths are relative to its mount.
type Req struct {
	ID      int           `json:"id"`
	Op      string        `json:"op"`
	Path    string        `json:"path,omitempty"`
	Path2   string        `json:"path2,omitempty"`
	Name    string        `json:"name,omitempty"`
	Data    []byte        `json:"data,omitempty"`
	Old     []byte        `json:"old,omitempty"`
	Want    bool          `json:"want,omitempty"`
	Size    int           `json:"size,omitempty"`
	Chunk   int           `json:"chunk,omitempty"`
	Delay   time.Duration `json:"delay,omitempty"`
	Timeout time.Duration `json:"timeout,omitempty"`
	Handle  int           `json:"handle,omitempty"`
	// At, if set, is the wall-clock time (Unix ns) at which to start the
	// operation, so that two agents start a race together.
	At int64 `json:"at,omitempty"`
}

// Resp is an agent's reply.
type Resp struct {
	ID       int      `json:"id"`
	OK       bool     `json:"ok"`
	Errno    string   `json:"errno,omitempty"`
	Err      string   `json:"err,omitempty"`
	Err2     string   `json:"err2,omitempty"` // errno of a second step (mkdir_list: the listing)
	Names    []string `json:"names,omitempty"`
	Data     []byte   `json:"data,omitempty"`
	Hostname string   `json:"hostname,omitempty"`
	Handle   int      `json:"handle,omitempty"`
	StartNs  int64    `json:"start_ns"` // wall clock when the operation started
	EndNs    int64    `json:"end_ns"`   // and ended
	SeenNs   int64    `json:"seen_ns,omitempty"`
	Polls    int      `json:"polls,omitempty"`
	Stale    int      `json:"stale,omitempty"`
	Torn     int      `json:"torn,omitempty"`
	Partial  int      `json:"partial,omitempty"`
	Errors   int      `json:"errors,omitempty"`
	Sizes    []int    `json:"sizes,omitempty"`
	// Counts is a histogram of outcomes of a loop ("ok", "torn", errnos).
	Counts map[string]int `json:"counts,omitempty"`
}

// ---------------------------------------------------------------- agent side

type agentState struct {
	root    string
	handles map[int]*os.File
	next    int
}

func runAgent() error {
	name, root := helperproc.Value("NAME"), helperproc.Value("ROOT")
	if root == "" {
		return errors.New("no root")
	}
	st := &agentState{root: root, handles: map[int]*os.File{}}
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 8<<20)
	out := bufio.NewWriter(os.Stdout)
	enc := json.NewEncoder(out)
	for in.Scan() {
		var req Req
		if err := json.Unmarshal(in.Bytes(), &req); err != nil {
			return fmt.Errorf("agent %s: bad request: %w", name, err)
		}
		if req.At != 0 {
			waitUntilWall(req.At)
		}
		resp := st.do(req)
		resp.ID = req.ID
		if err := enc.Encode(resp); err != nil {
			return err
		}
		if err := out.Flush(); err != nil {
			return err
		}
	}
	for _, f := range st.handles {
		f.Close()
	}
	return in.Err()
}

// waitUntilWall sleeps, then spins for the last stretch, until the wall clock
// reaches at (Unix ns).
func waitUntilWall(at int64) {
	if d := time.Duration(at-time.Now().UnixNano()) - 300*time.Microsecond; d > 0 {
		time.Sleep(d)
	}
	for time.Now().UnixNano() < at {
	}
}

func (st *agentState) p(rel string) string { return filepath.Join(st.root, rel) }

func setErr(r *Resp, err error) {
	if err == nil {
		r.OK = true
		return
	}
	r.OK = false
	r.Errno = share.Outcome(err)
	r.Err = err.Error()
}

func listNames(dir string) ([]string, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	sort.Strings(names)
	return names, err
}

func contains(names []string, name string) bool {
	for _, n := range names {
		if n == name {
			return true
		}
	}
	return false
}

// pattern is the content slow_write writes: byte i is i%251.
func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i % 251)
	}
	return b
}

func (st *agentState) do(req Req) (r Resp) {
	r.StartNs = time.Now().UnixNano()
	defer func() { r.EndNs = time.Now().UnixNano() }()
	timeout := req.Timeout
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	switch req.Op {
	case "hostname":
		h, err := os.Hostname()
		r.Hostname = h
		setErr(&r, err)

	case "mkdir":
		setErr(&r, syscall.Mkdir(st.p(req.Path), 0o755))

	case "mkdir_all":
		setErr(&r, os.MkdirAll(st.p(req.Path), 0o755))

	case "rmdir":
		setErr(&r, syscall.Rmdir(st.p(req.Path)))

	case "unlink":
		setErr(&r, syscall.Unlink(st.p(req.Path)))

	case "create_excl":
		f, err := os.OpenFile(st.p(req.Path), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if err == nil {
			_, err = f.Write(req.Data)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		setErr(&r, err)

	case "write":
		setErr(&r, os.WriteFile(st.p(req.Path), req.Data, 0o644))

	case "write_rename": // write Path2 (a temp file), then rename it over Path
		err := os.WriteFile(st.p(req.Path2), req.Data, 0o644)
		if err == nil {
			err = os.Rename(st.p(req.Path2), st.p(req.Path))
		}
		setErr(&r, err)

	case "read":
		data, err := os.ReadFile(st.p(req.Path))
		r.Data = data
		setErr(&r, err)

	case "stat":
		fi, err := os.Stat(st.p(req.Path))
		if err == nil {
			r.Sizes = []int{int(fi.Size())}
		}
		setErr(&r, err)

	case "list":
		names, err := listNames(st.p(req.Path))
		r.Names = names
		setErr(&r, err)

	case "mkdir_list": // mkdir Path, then at once list Path2
		setErr(&r, syscall.Mkdir(st.p(req.Path), 0o755))
		names, err := listNames(st.p(req.Path2))
		r.Names = names
		if err != nil {
			r.Err2 = share.Outcome(err)
		}

	case "wait_list": // list Path until Name is present (Want) or absent (!Want)
		deadline := time.Now().Add(timeout)
		for {
			names, err := listNames(st.p(req.Path))
			r.Polls++
			if err != nil {
				r.Errors++
			} else if contains(names, req.Name) == req.Want {
				r.SeenNs = time.Now().UnixNano()
				r.OK = true
				break
			}
			if time.Now().After(deadline) {
				r.Err = "timed out"
				break
			}
			time.Sleep(req.Delay)
		}

	case "wait_stat": // stat Path until it exists (Want) or is gone (!Want)
		deadline := time.Now().Add(timeout)
		for {
			_, err := os.Stat(st.p(req.Path))
			r.Polls++
			if (err == nil) == req.Want && (err == nil || errors.Is(err, os.ErrNotExist)) {
				r.SeenNs = time.Now().UnixNano()
				r.OK = true
				break
			}
			if time.Now().After(deadline) {
				r.Err = "timed out"
				break
			}
			time.Sleep(req.Delay)
		}

	case "wait_read": // read Path until it equals Data; count reads equal to Old (stale), cut short (partial) and others (torn)
		deadline := time.Now().Add(timeout)
		for {
			data, err := os.ReadFile(st.p(req.Path))
			r.Polls++
			switch {
			case err != nil:
				r.Errors++
				r.Err2 = share.Outcome(err)
			case bytes.Equal(data, req.Data):
				r.SeenNs = time.Now().UnixNano()
				r.OK = true
			case bytes.Equal(data, req.Old):
				r.Stale++
			case shortRead(data):
				r.Partial++
			default:
				r.Torn++
				if r.Torn == 1 {
					r.Data = data
				}
			}
			if r.OK {
				break
			}
			if time.Now().After(deadline) {
				r.Err = "timed out"
				break
			}
			time.Sleep(req.Delay)
		}

	case "open_hold":
		f, err := os.OpenFile(st.p(req.Path), os.O_RDWR, 0)
		if err == nil {
			st.next++
			st.handles[st.next] = f
			r.Handle = st.next
		}
		setErr(&r, err)

	case "close":
		f := st.handles[req.Handle]
		if f == nil {
			r.Err = "no such handle"
			break
		}
		delete(st.handles, req.Handle)
		setErr(&r, f.Close())

	case "flock":
		f := st.handles[req.Handle]
		if f == nil {
			r.Err = "no such handle"
			break
		}
		setErr(&r, syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB))

	case "fcntl_lock":
		f := st.handles[req.Handle]
		if f == nil {
			r.Err = "no such handle"
			break
		}
		lk := syscall.Flock_t{Type: syscall.F_WRLCK, Whence: io.SeekStart}
		setErr(&r, syscall.FcntlFlock(f.Fd(), syscall.F_SETLK, &lk))

	case "link":
		setErr(&r, os.Link(st.p(req.Path), st.p(req.Path2)))

	case "slow_write": // write Size bytes of pattern in Chunk pieces, Delay apart, no rename
		f, err := os.OpenFile(st.p(req.Path), os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
		if err != nil {
			setErr(&r, err)
			break
		}
		data := pattern(req.Size)
		for off := 0; off < len(data) && err == nil; off += req.Chunk {
			end := min(off+req.Chunk, len(data))
			_, err = f.Write(data[off:end])
			time.Sleep(req.Delay)
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		setErr(&r, err)

	case "watch_read": // read Path until it is the full Size-byte pattern; record partial reads
		deadline := time.Now().Add(timeout)
		want := pattern(req.Size)
		seen := map[int]bool{}
		for {
			data, err := os.ReadFile(st.p(req.Path))
			r.Polls++
			if err != nil {
				r.Errors++
			} else {
				if !seen[len(data)] {
					seen[len(data)] = true
					r.Sizes = append(r.Sizes, len(data))
				}
				if !bytes.Equal(data, want[:min(len(data), len(want))]) {
					r.Torn++ // not a prefix of what is being written
				} else if len(data) == len(want) {
					r.SeenNs = time.Now().UnixNano()
					r.OK = true
					break
				} else if len(data) > 0 {
					r.Partial++
				}
			}
			if time.Now().After(deadline) {
				r.Err = "timed out"
				break
			}
			time.Sleep(req.Delay)
		}

	case "read_loop": // read Path for Timeout; classify each read as ok (a complete record), short, torn or an errno
		r.Counts = map[string]int{}
		deadline := time.Now().Add(timeout)
		for time.Now().Before(deadline) {
			data, err := os.ReadFile(st.p(req.Path))
			r.Polls++
			switch {
			case err != nil:
				r.Counts[share.Outcome(err)]++
			case validRecord(data):
				r.Counts["ok"]++
			case shortRead(data):
				r.Counts["short"]++
			default:
				r.Counts["torn"]++
				if r.Data == nil {
					r.Data = data
				}
			}
			time.Sleep(req.Delay)
		}
		r.OK = true

	case "rename_loop": // Size times: write a record to a temp file and rename it over Path
		r.Counts = map[string]int{}
		for i := 1; i <= req.Size; i++ {
			tmp := fmt.Sprintf("%s.tmp.%d", req.Path, i)
			data := record(i, 20+(i%7)*100)
			err := os.WriteFile(st.p(tmp), data, 0o644)
			if err == nil {
				err = os.Rename(st.p(tmp), st.p(req.Path))
			}
			if err != nil {
				r.Counts[share.Outcome(err)]++
				_ = os.Remove(st.p(tmp))
			} else {
				r.Counts["ok"]++
			}
			time.Sleep(req.Delay)
		}
		r.OK = true

	default:
		r.Err = "unknown op " + req.Op
	}
	return r
}

// --------------------------------------------------------------- test side

// Agent is a running agent process, one "host" working on one mount, as
// seen from one test: failures are reported to that test.
type Agent struct {
	*agentProc
	t testing.TB
}

// For returns the same agent reporting failures to t (a subtest).
func (a *Agent) For(t testing.TB) *Agent { return &Agent{agentProc: a.agentProc, t: t} }

type agentProc struct {
	Name  string // hostname in its UTS namespace
	Mount string

	proc    *helperproc.Proc
	mu      sync.Mutex
	nextID  int
	pending map[int]chan Resp
	dead    chan struct{}
	readErr error // why readLoop stopped, once dead is closed
}

// StartAgent re-executes the test binary as an agent on mount, in its own UTS
// namespace with the given hostname; stopped by t.Cleanup.
func StartAgent(t testing.TB, hostname, mount string) *Agent {
	t.Helper()
	a := &agentProc{Name: hostname, Mount: mount, pending: map[int]chan Resp{}, dead: make(chan struct{})}
	a.proc = helperproc.StartTest(t, "agent", helperproc.Param("NAME", hostname), helperproc.Param("ROOT", mount),
		helperproc.Prepare(func(cmd *exec.Cmd) { smbtest.OtherHost(hostname, cmd) }),
		helperproc.Grace(5*time.Second))
	go a.readLoop()
	return &Agent{agentProc: a, t: t}
}

func (a *agentProc) readLoop() {
	defer close(a.dead)
	for {
		line, err := a.proc.Line(0)
		if err != nil {
			a.readErr = err
			return
		}
		var r Resp
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			a.readErr = fmt.Errorf("bad reply %q: %w", line, err)
			return
		}
		a.mu.Lock()
		ch := a.pending[r.ID]
		delete(a.pending, r.ID)
		a.mu.Unlock()
		if ch != nil {
			ch <- r
		}
	}
}

// Pending is a request in flight.
type Pending struct {
	a   *Agent
	req Req
	ch  chan Resp
}

// Go sends req without waiting for the reply.
func (a *Agent) Go(req Req) *Pending {
	a.mu.Lock()
	a.nextID++
	req.ID = a.nextID
	ch := make(chan Resp, 1)
	a.pending[req.ID] = ch
	a.mu.Unlock()
	line, err := json.Marshal(req)
	if err != nil {
		a.t.Fatalf("agent %s: %v", a.Name, err)
	}
	if err := a.proc.Send(string(line)); err != nil {
		a.t.Fatalf("agent %s: %s: %v (stderr: %s)", a.Name, req.Op, err, a.proc.Stderr())
	}
	return &Pending{a: a, req: req, ch: ch}
}

// Wait returns the reply, failing the test if none comes in time.
func (p *Pending) Wait() Resp {
	timeout := callTimeout
	if p.req.Timeout > 0 {
		timeout += p.req.Timeout
	}
	select {
	case r := <-p.ch:
		return r
	case <-p.a.dead:
		select {
		case r := <-p.ch:
			return r
		default:
		}
		p.a.t.Fatalf("agent %s died during %s %s: %v", p.a.Name, p.req.Op, p.req.Path, p.a.readErr)
	case <-time.After(timeout):
		p.a.t.Fatalf("agent %s: %s %s took more than %v", p.a.Name, p.req.Op, p.req.Path, timeout)
	}
	return Resp{}
}

// Do sends req and waits for the reply.
func (a *Agent) Do(req Req) Resp { return a.Go(req).Wait() }

// Must is Do, failing the test if the operation failed.
func (a *Agent) Must(req Req) Resp {
	a.t.Helper()
	r := a.Do(req)
	if !r.OK {
		a.t.Fatalf("agent %s: %s %s: %s %s", a.Name, req.Op, req.Path, r.Errno, r.Err)
	}
	return r
}

// Race starts reqA on a and reqB on b at the same wall-clock instant and
// returns both replies.
func Race(a, b *Agent, reqA, reqB Req) (Resp, Resp) {
	at := time.Now().Add(3 * time.Millisecond).UnixNano()
	reqA.At, reqB.At = at, at
	pa := a.Go(reqA)
	pb := b.Go(reqB)
	return pa.Wait(), pb.Wait()
}
