// Command report turns the "go test -json" stream of the stress run (make
// stress) into docs/RELIABILITY.md: every FIGURE line the tests logged,
// grouped by what they prove, with each test's result, the parameters of
// the run, the machine and the date. It passes the stream's lines of
// interest through to stdout as they come, and exits 1 if a test failed or
// none ran (the document is written either way: a failed run is reported,
// not hidden).
//
//	go test -json ... | go run ./tests/report -out docs/RELIABILITY.md -cmd "make stress"
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"strings"
	"time"
)

// event is one line of "go test -json".
type event struct {
	Action  string
	Package string
	Test    string
	Output  string
	Elapsed float64
}

// figure is one "FIGURE name k=v ..." line.
type figure struct {
	name, test, pkg string
	keys            []string
	vals            map[string]string
}

type result struct {
	pkg, test, action string
	elapsed           float64
}

func main() {
	out := flag.String("out", "docs/RELIABILITY.md", "the document to write")
	command := flag.String("cmd", "make stress", "the command that produced the stream, for the document")
	flag.Parse()
	start := time.Now()
	// The commit under test: taken now, as the tests start, not when they
	// end (the tree may change while they run).
	commit := gitCommit()
	figs, results, err := read(os.Stdin, os.Stdout)
	if err != nil {
		fmt.Fprintf(os.Stderr, "report: reading the test stream: %v\n", err)
		os.Exit(1)
	}
	doc := render(figs, results, *command, commit, time.Since(start))
	if err := os.WriteFile(*out, []byte(doc), 0o644); err != nil {
		fmt.Fprintf(os.Stderr, "report: %v\n", err)
		os.Exit(1)
	}
	failed := 0
	for _, r := range results {
		if r.action == "fail" {
			failed++
		}
	}
	fmt.Printf("report: %d figures, %d results, %d failed; wrote %s\n", len(figs), len(results), failed, *out)
	if failed > 0 || len(results) == 0 {
		os.Exit(1)
	}
}

// read collects figures and results, echoing figures, results and failure
// output to echo.
func read(r io.Reader, echo io.Writer) ([]figure, []result, error) {
	var figs []figure
	var results []result
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var ev event
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			// Not JSON (a build error, say): pass it on.
			fmt.Fprintln(echo, sc.Text())
			continue
		}
		switch ev.Action {
		case "output":
			if i := strings.Index(ev.Output, "FIGURE "); i >= 0 {
				f := parseFigure(strings.TrimSpace(ev.Output[i+len("FIGURE "):]))
				f.test, f.pkg = ev.Test, ev.Package
				figs = append(figs, f)
				fmt.Fprint(echo, ev.Output)
			} else if strings.Contains(ev.Output, "Error") || strings.HasPrefix(strings.TrimSpace(ev.Output), "FAIL") {
				fmt.Fprint(echo, ev.Output)
			}
		case "pass", "fail", "skip":
			if ev.Test != "" || ev.Action == "fail" {
				results = append(results, result{pkg: ev.Package, test: ev.Test, action: ev.Action, elapsed: ev.Elapsed})
				fmt.Fprintf(echo, "%s %s %s (%.1fs)\n", strings.ToUpper(ev.Action), short(ev.Package), ev.Test, ev.Elapsed)
			}
		}
	}
	return figs, results, sc.Err()
}

// parseFigure splits "name k=v k=v ..."; a value runs until the next
// " key=" (values may contain spaces).
func parseFigure(s string) figure {
	f := figure{vals: map[string]string{}}
	fields := strings.Fields(s)
	if len(fields) == 0 {
		return f
	}
	f.name = fields[0]
	last := ""
	for _, tok := range fields[1:] {
		if k, v, ok := strings.Cut(tok, "="); ok && isKey(k) {
			f.keys = append(f.keys, k)
			f.vals[k] = v
			last = k
		} else if last != "" {
			f.vals[last] += " " + tok
		}
	}
	return f
}

func isKey(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

func short(pkg string) string { return strings.TrimPrefix(pkg, "github.com/tguard/tguard/") }

// section is one claim of the issue, with the figures that support it.
type section struct {
	title, what string
	figures     []string // figure names, in order
	tests       []string // tests (prefixes) whose results belong here
}

var sections = []section{
	{"1. The verifier catches an overlap (controls)",
		"The contenders run without tguard and report made-up tokens to the verifier (a loopback server in the style of Lucene's LockVerifyServer). The run passes only if the verifier reports violations: it proves the harness can fail.",
		[]string{"local_control", "sharelock_control"}, []string{"TestLocalDisk/control", "TestShareLock/control"}},
	{"2. Local disk: 8 processes",
		"Eight loops, each running `tguard lock exec --lease 2s -- contender` back to back on one index on local disk. Each contender reports acquired/released with its fencing token to the verifier and waits for the echo. Passing: 0 violations (no overlap, no release by a non-holder, tokens strictly growing), every cycle completed, each reported token equal to the one tguard logged.",
		[]string{"local_racing"}, []string{"TestLocalDisk/racing"}},
	{"3. A real SMB share, two mounts, two hosts",
		"Samba serves a folder on 127.0.0.1; two smbnetfs FUSE clients mount it; contenders on mount A run as host tguard-host-a, on mount B as tguard-host-b (UTS namespaces). racing: 4 loops (2 per mount) of tguard lock exec. dead_holder: a holder killed with SIGKILL and 4 waiters on other hosts racing for its lease (waiters started before or after the kill). dead_holder_same_host: a waiter on the holder's host proves it dead. live_holder: waiters must give up (exit 75) against a holder that renews. The share's primitives are measured across the two mounts in the same run (section 3b).",
		[]string{"sharelock_racing", "sharelock_dead_holder_takeover", "sharelock_dead_holder_same_host_takeover", "sharelock_live_holder"},
		[]string{"TestShareLock/racing", "TestShareLock/dead_holder", "TestShareLock/dead_holder_same_host", "TestShareLock/live_holder"}},
	{"4. Chaos: kill -9 during tguard index",
		"tguard index runs again and again on new documents and is killed with SIGKILL at a random moment within the length of a run (the first two runs at the failpoints right before and right after the commit). After each kill the index must open, and the accepted documents are collected: those in the journal (acknowledged) and those already in the index. A final tguard flush applies the journal. Passing: every accepted document in the index exactly once, nothing else there.",
		[]string{"chaos"}, []string{"TestChaosKills"}},
	{"5. Pauses: zombie writers across two hosts",
		"A writer on host A (mount A) is stopped with SIGSTOP while holding the lease: at its failpoint right before its commit (past-lease: stays stopped past its lease; forced: its lease is force-broken so that only the fence can refuse it) or at a random moment after its grant (random). A successor on host B (mount B) commits; the zombie is resumed. Passing: a zombie that resumed after losing its lease never commits (the last commit is the successor's, and the committed token never goes back), the successor loses nothing, and the zombie's own documents, kept in its journal, are applied by its next flush, each exactly once.",
		[]string{"pauses"}, []string{"TestZombiesAcrossHosts"}},
	{"6. Clock skew of ±1 h",
		"Instances run with TGUARD_CLOCK_SKEW of -1h, 0 and +1h on the share's two mounts. live: waiters an hour ahead or behind a renewing holder must not take it over (exit 75). dead: a holder killed with SIGKILL is taken over from another host within lease + margin + one poll (plus 400 ms for process start and the share's round trips), and not before its lease could have run out.",
		[]string{"sharelock_skew_live", "sharelock_skew_dead_holder"}, []string{"TestShareLock/skew"}},
	{"7. The file server fails",
		"smbd is killed with SIGKILL (every client connection with it) while a holder renews a 3 s lease through mount A, and started again after the lease has run out. Passing: the holder reports the lease lost before its lease runs out on its own clock and exits 76; after the restart, holders through both mounts are granted the lease in turn with growing tokens.",
		[]string{"sharelock_server_restart"}, []string{"TestShareLock/server_restart"}},
	{"8. Bad lease records and bad environments",
		"Each case runs the real binary: a corrupt record is planted in a real lease layout, or the index folder is made unusable. Passing: a clear one-line error or a safe takeover (an unreadable record is held until it has stayed unchanged for a lease; a dead PID on this host is taken at once; a live PID of another user is not taken), never a panic, never two holders, and no lease left behind once the environment is fixed.",
		[]string{"badinput"}, []string{"TestBadInput"}},
}

func render(figs []figure, results []result, command, commit string, took time.Duration) string {
	var b strings.Builder
	byName := map[string][]figure{}
	for _, f := range figs {
		byName[f.name] = append(byName[f.name], f)
	}
	failed := 0
	for _, r := range results {
		if r.action == "fail" {
			failed++
		}
	}
	verdict := "every test passed"
	if failed > 0 {
		verdict = fmt.Sprintf("**%d test results failed**", failed)
	}
	fmt.Fprintf(&b, "# Reliability: what the stress run measured\n\n")
	fmt.Fprintf(&b, "Written by `%s` (tests/report) from the run's own output; do not edit by hand. ", command)
	fmt.Fprintf(&b, "Result: %s.\n\n", verdict)
	fmt.Fprintf(&b, "| | |\n|---|---|\n")
	fmt.Fprintf(&b, "| date | %s |\n", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(&b, "| commit | %s |\n", commit)
	fmt.Fprintf(&b, "| machine | %s |\n", machine())
	fmt.Fprintf(&b, "| run time | %s |\n", took.Round(time.Second))
	fmt.Fprintf(&b, "| parameters | %s |\n", params())
	fmt.Fprintf(&b, "\nThe same tests run in `make test` with small parameters (the defaults); `make stress` runs them with the parameters above. ")
	fmt.Fprintf(&b, "Each FIGURE below is a line a test printed; the test's result is next to it.\n\n")

	for _, s := range sections {
		fmt.Fprintf(&b, "## %s\n\n%s\n\n", s.title, s.what)
		writeResults(&b, results, s.tests)
		if s.figures[0] == "badinput" {
			writeBadInput(&b, byName["badinput"])
			continue
		}
		for _, name := range s.figures {
			for _, f := range byName[name] {
				writeFigure(&b, f)
			}
			if len(byName[name]) == 0 {
				fmt.Fprintf(&b, "`%s`: no figure in this run.\n\n", name)
			}
		}
	}
	fmt.Fprintf(&b, "## 3b. The share's primitives, across the two mounts\n\n")
	fmt.Fprintf(&b, "What the protocol relies on, measured on the same kind of share (tests/share): the protocol decides only with mkdir; O_EXCL create is not exclusive across the two clients.\n\n")
	writeResults(&b, results, []string{"TestPrimitives"})
	var prim []figure
	for _, f := range figs {
		if short(f.pkg) == "tests/share" {
			prim = append(prim, f)
		}
	}
	if len(prim) == 0 {
		fmt.Fprintf(&b, "No primitive figures in this run.\n\n")
	} else {
		fmt.Fprintf(&b, "| figure | values |\n|---|---|\n")
		for _, f := range prim {
			fmt.Fprintf(&b, "| %s | %s |\n", f.name, kvLine(f))
		}
		fmt.Fprintln(&b)
	}
	fmt.Fprintf(&b, "## Rerun\n\n```\nmake stress            # about %s here; writes this file\nmake test              # the same tests, small parameters\n```\n", took.Round(time.Minute))
	return b.String()
}

func writeResults(b *strings.Builder, results []result, prefixes []string) {
	var rows []string
	for _, r := range results {
		if r.test == "" {
			continue
		}
		for _, p := range prefixes {
			if r.test == p || strings.HasPrefix(r.test, p) {
				rows = append(rows, fmt.Sprintf("`%s` %s: **%s** in %.1f s", short(r.pkg), r.test, strings.ToUpper(r.action), r.elapsed))
				break
			}
		}
	}
	if len(rows) == 0 {
		fmt.Fprintf(b, "Not run.\n\n")
		return
	}
	sort.Strings(rows)
	for _, r := range rows {
		fmt.Fprintf(b, "- %s\n", r)
	}
	fmt.Fprintln(b)
}

func writeFigure(b *strings.Builder, f figure) {
	fmt.Fprintf(b, "`%s` (%s):\n\n| | |\n|---|---|\n", f.name, f.test)
	for _, k := range f.keys {
		fmt.Fprintf(b, "| %s | %s |\n", k, f.vals[k])
	}
	fmt.Fprintln(b)
}

func writeBadInput(b *strings.Builder, figs []figure) {
	if len(figs) == 0 {
		fmt.Fprintf(b, "No figure in this run.\n\n")
		return
	}
	fmt.Fprintf(b, "| case | outcome | exit | took |\n|---|---|---|---|\n")
	for _, f := range figs {
		fmt.Fprintf(b, "| %s | %s | %s | %s |\n", f.vals["case"], f.vals["outcome"], f.vals["exit"], f.vals["took"])
	}
	fmt.Fprintln(b)
}

func kvLine(f figure) string {
	parts := make([]string, 0, len(f.keys))
	for _, k := range f.keys {
		parts = append(parts, k+"="+f.vals[k])
	}
	return strings.ReplaceAll(strings.Join(parts, " "), "|", "\\|")
}

// params lists the TGUARD_ settings of the run, as the Makefile passed them.
func params() string {
	var ps []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "TGUARD_") {
			ps = append(ps, "`"+kv+"`")
		}
	}
	sort.Strings(ps)
	if len(ps) == 0 {
		return "the tests' defaults"
	}
	return strings.Join(ps, " ")
}

func gitCommit() string {
	out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	c := strings.TrimSpace(string(out))
	if st, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(st) > 0 {
		c += " (with uncommitted changes)"
	}
	return c
}

func machine() string {
	cpu := "unknown CPU"
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(data), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	mem := ""
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int
		if _, err := fmt.Sscanf(string(data), "MemTotal: %d kB", &kb); err == nil {
			mem = fmt.Sprintf(", %.0f GB RAM", float64(kb)/1024/1024)
		}
	}
	kernel := ""
	if out, err := exec.Command("uname", "-r").Output(); err == nil {
		kernel = ", Linux " + strings.TrimSpace(string(out))
	}
	return fmt.Sprintf("%s, %d CPUs%s%s, %s", cpu, runtime.NumCPU(), mem, kernel, runtime.Version())
}
