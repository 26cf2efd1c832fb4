// Command probe measures file-system behaviour of the SMB share that the
// lease protocol does not rely on, across the two client mounts of a real
// share (tests/smbtest) used as two hosts, and prints one FIGURE line per
// probe. It is not a test: nothing here can be right or wrong for tguard,
// only worth knowing (docs/PROTOCOL.md lists what is relied on; tests/share
// asserts that). Needs root, Samba and smbnetfs, as tests/share does:
//
//	go run ./tests/share/probe [-nocache] [-rounds N]
//
// flock: Tantivy's own locks are flock locks; the protocol does not rely
// on them, and the shareindex tests expect them to be local to one client.
//
// excl_create_existing: an O_EXCL create of a name the other client made
// earlier (no race). The protocol does not rely on O_EXCL at all (it is
// not exclusive across clients: tests/share's excl_create_race); the lease
// markers tolerate an existing name.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/tguard/tguard/tests/share"
	"github.com/tguard/tguard/tests/smbtest"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "op" {
		os.Exit(op(os.Args[2:]))
	}
	nocache := flag.Bool("nocache", false, "mount without FUSE caches")
	rounds := flag.Int("rounds", 20, "rounds of excl_create_existing")
	flag.Parse()
	os.Exit(run(*nocache, *rounds))
}

func run(nocache bool, rounds int) (code int) {
	t := &runner{}
	defer func() {
		r := recover()
		t.cleanup() // stops the share, also after a fatal error
		if r != nil && r != errFatal {
			panic(r)
		} else if r != nil || t.failed {
			code = 1
		}
	}()
	mode := "default"
	if nocache {
		mode = "nocache"
	}
	share := smbtest.StartWith(t, smbtest.Options{NoCache: nocache})
	p := &probe{t: t, share: share, mode: mode}
	p.flock()
	p.exclCreateExisting(rounds)
	return 0
}

type probe struct {
	t     *runner
	share *smbtest.Share
	mode  string
}

// host starts this program on simulated host a or b with an op.
func (p *probe) host(name string, args ...string) *exec.Cmd {
	self, err := os.Executable()
	if err != nil {
		p.t.Fatal(err)
	}
	cmd := exec.Command(self, append([]string{"op"}, args...)...)
	cmd.Stderr = os.Stderr
	smbtest.OtherHost("tguard-host-"+name, cmd)
	return cmd
}

// flock: A takes flock and fcntl locks on a file and holds them; B, on the
// other mount, tries both on the same file.
func (p *probe) flock() {
	dir := p.dir("flock")
	if err := os.WriteFile(filepath.Join(p.share.Root, dir, "lockfile"), []byte("lock"), 0o644); err != nil {
		p.t.Fatal(err)
	}
	a := p.host("a", "hold-locks", filepath.Join(p.share.MountA, dir, "lockfile"))
	stdin, err := a.StdinPipe()
	if err != nil {
		p.t.Fatal(err)
	}
	out, err := a.StdoutPipe()
	if err != nil {
		p.t.Fatal(err)
	}
	if err := a.Start(); err != nil {
		p.t.Fatal(err)
	}
	var fa, pa string
	if _, err := fmt.Fscan(out, &fa, &pa); err != nil {
		p.t.Fatalf("host a: %v", err)
	}
	b, err := p.host("b", "try-locks", filepath.Join(p.share.MountB, dir, "lockfile")).Output()
	stdin.Close() // A lets go
	_ = a.Wait()
	if err != nil {
		p.t.Fatalf("host b: %v", err)
	}
	fb, pb, _ := strings.Cut(strings.TrimSpace(string(b)), " ")
	p.fig("flock", "a", fa, "b", fb, "fcntl_a", pa, "fcntl_b", pb)
}

// exclCreateExisting: A creates a file, then B creates the same name with
// O_EXCL: what does B get, and what does the file hold then?
func (p *probe) exclCreateExisting(n int) {
	dir := p.dir("excl_existing")
	res := map[string]int{}
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("f%02d", i)
		if r := p.createExcl("a", p.share.MountA, dir, name, "a"); r != "ok" {
			p.t.Fatalf("host a: O_EXCL create of a new name: %s", r)
		}
		res[p.createExcl("b", p.share.MountB, dir, name, "b")]++
	}
	got, _ := os.ReadFile(filepath.Join(p.share.Root, dir, "f00"))
	p.fig("excl_create_existing", "rounds", n, "b_result", share.Counts(res), "content_f00", strconv.Quote(string(got)))
}

func (p *probe) createExcl(host, mount, dir, name, data string) string {
	out, err := p.host(host, "create-excl", filepath.Join(mount, dir, name), data).Output()
	if err != nil {
		p.t.Fatalf("host %s: %v", host, err)
	}
	return strings.TrimSpace(string(out))
}

// dir makes a fresh folder on the share, through the server's disk.
func (p *probe) dir(name string) string {
	if err := os.MkdirAll(filepath.Join(p.share.Root, name), 0o755); err != nil {
		p.t.Fatal(err)
	}
	return name
}

func (p *probe) fig(name string, kv ...any) {
	var b strings.Builder
	fmt.Fprintf(&b, "FIGURE %s mount=%s", name, p.mode)
	for i := 0; i+1 < len(kv); i += 2 {
		fmt.Fprintf(&b, " %v=%v", kv[i], kv[i+1])
	}
	fmt.Println(b.String())
}

// op runs one operation on this simulated host and prints its result: "ok"
// or the errno's name.
func op(args []string) int {
	if len(args) < 2 {
		fmt.Fprintln(os.Stderr, "probe op: want NAME PATH [DATA]")
		return 2
	}
	switch args[0] {
	case "hold-locks", "try-locks":
		f, err := os.OpenFile(args[1], os.O_RDWR, 0)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer f.Close()
		fl := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		lk := syscall.Flock_t{Type: syscall.F_WRLCK, Whence: io.SeekStart}
		pl := syscall.FcntlFlock(f.Fd(), syscall.F_SETLK, &lk)
		fmt.Println(result(fl), result(pl))
		if args[0] == "hold-locks" {
			_, _ = io.Copy(io.Discard, os.Stdin) // until the driver closes it
		}
	case "create-excl":
		data := ""
		if len(args) > 2 {
			data = args[2]
		}
		f, err := os.OpenFile(args[1], os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if err == nil {
			_, err = f.WriteString(data)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		fmt.Println(result(err))
	default:
		fmt.Fprintf(os.Stderr, "probe op: unknown %q\n", args[0])
		return 2
	}
	return 0
}

// result names err's outcome: "ok" for nil (share.Outcome).
func result(err error) string {
	if err == nil {
		return "ok"
	}
	return share.Outcome(err)
}

// runner is the testing.TB smbtest.StartWith wants, for a program: logs
// go to stderr, a fatal error ends the run (after the cleanups).
type runner struct {
	testing.TB // nil: only the methods below are called
	cleanups   []func()
	failed     bool
}

var errFatal = errors.New("fatal")

func (r *runner) Helper()                    {}
func (r *runner) Name() string               { return "probe" }
func (r *runner) Cleanup(f func())           { r.cleanups = append(r.cleanups, f) }
func (r *runner) Failed() bool               { return r.failed }
func (r *runner) Log(args ...any)            { fmt.Fprintln(os.Stderr, args...) }
func (r *runner) Logf(f string, args ...any) { fmt.Fprintf(os.Stderr, f+"\n", args...) }
func (r *runner) Errorf(f string, args ...any) {
	r.failed = true
	r.Logf(f, args...)
}
func (r *runner) Fatal(args ...any) {
	r.failed = true
	r.Log(args...)
	panic(errFatal)
}
func (r *runner) Fatalf(f string, args ...any) {
	r.failed = true
	r.Logf(f, args...)
	panic(errFatal)
}
func (r *runner) Skip(args ...any) {
	r.Log(args...)
	panic(errFatal)
}

func (r *runner) cleanup() {
	for i := len(r.cleanups) - 1; i >= 0; i-- {
		r.cleanups[i]()
	}
}
