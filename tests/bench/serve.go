package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Job 7: serve under load. Three "tguard serve" processes on one fresh
// index in a local folder, each with its own journal; the corpus is posted
// to them round-robin as JSON lines (servePerPost documents a request) by
// serveClients concurrent clients on loopback. Accepted docs/s = documents
// acknowledged (202) ÷ wall time from the first request to the last
// acknowledgement; the latency of a request is from sending it to its 202,
// measured by the client. The baseline is one "tguard index" run of the
// same documents (journal + lease + indexing) right before, in the same
// round; the ratio is the median of the per-round ratios. The instances
// index in the background meanwhile; the time until every document is
// committed is reported too.
type serveResult struct {
	rounds         int
	rate, baseline []float64 // docs/s per round
	ratios         []float64
	ratio          float64
	p50, p99, max  float64   // ms, over every request of every round
	drain          []float64 // s from the last ack until all committed
	requests       int
}

const (
	serveInstances = 3
	serveClients   = 3
	servePerPost   = 10
)

func (b *bench) jobServe() (*serveResult, error) {
	rounds := 2
	if b.cfg.quick {
		rounds = 1
	}
	res := &serveResult{rounds: rounds}
	lines, err := readLines(b.corpus.full)
	if err != nil {
		return nil, err
	}
	var lat []float64
	for r := range rounds {
		base, err := b.runProduct(b.corpus.full)
		if err != nil {
			return nil, err
		}
		rate, l, drain, err := b.serveRun(lines)
		if err != nil {
			return nil, err
		}
		lat = append(lat, l...)
		res.rate, res.baseline = append(res.rate, rate), append(res.baseline, base.rate)
		res.ratios, res.drain = append(res.ratios, rate/base.rate), append(res.drain, drain.Seconds())
		b.logf("  round %d/%d: tguard index %.0f docs/s; 3 × serve accepted %.0f docs/s (%.3f), p99 ack %.1f ms, all committed %.1f s after the last ack",
			r+1, rounds, base.rate, rate, rate/base.rate, percentile(l, 99), drain.Seconds())
	}
	res.ratio = median(res.ratios)
	res.p50, res.p99, res.max = percentile(lat, 50), percentile(lat, 99), percentile(lat, 100)
	res.requests = len(lat)
	return res, nil
}

func readLines(path string) ([][]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out [][]byte
	for _, l := range bytes.Split(data, []byte("\n")) {
		if len(bytes.TrimSpace(l)) > 0 {
			out = append(out, l)
		}
	}
	return out, nil
}

// serveProc is one running tguard serve.
type serveProc struct {
	cmd    *exec.Cmd
	base   string
	errb   *bytes.Buffer
	mu     *sync.Mutex
	exited chan struct{} // closed when cmd.Wait returned
}

var serveAddrRe = regexp.MustCompile(`on (http://\S+) as`)

func (b *bench) startServe(index, dir string, i int) (*serveProc, error) {
	cmd := exec.Command(b.tguard, "serve", "--index", index, "--listen", "127.0.0.1:0",
		"--owner", fmt.Sprintf("bench-%d", i), "--journal", filepath.Join(dir, fmt.Sprintf("journal-%d.db", i)),
		"--commit-every", "1s")
	pr, pw := io.Pipe()
	cmd.Stderr = pw
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &serveProc{cmd: cmd, errb: &bytes.Buffer{}, mu: &sync.Mutex{}, exited: make(chan struct{})}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			p.mu.Lock()
			p.errb.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
			if m := serveAddrRe.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
	}()
	go func() { _ = cmd.Wait(); pw.Close(); close(p.exited) }()
	select {
	case p.base = <-found:
		return p, nil
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		return nil, fmt.Errorf("tguard serve did not start: %s", p.errb)
	}
}

// metric reads one unlabelled metric of a /metrics page.
func (p *serveProc) metric(name string) (float64, error) {
	resp, err := http.Get(p.base + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			return strconv.ParseFloat(strings.TrimSpace(v), 64)
		}
	}
	return 0, fmt.Errorf("no metric %s", name)
}

func (b *bench) serveRun(lines [][]byte) (rate float64, latMS []float64, drain time.Duration, err error) {
	dir := freshDir(b.work, "serve-")
	defer os.RemoveAll(dir)
	index := filepath.Join(dir, "index")
	settle()
	procs := make([]*serveProc, serveInstances)
	defer func() {
		for _, p := range procs {
			if p != nil {
				_ = p.cmd.Process.Signal(syscall.SIGKILL)
				<-p.exited
			}
		}
	}()
	for i := range procs {
		if procs[i], err = b.startServe(index, dir, i); err != nil {
			return 0, nil, 0, err
		}
	}
	var posts [][]byte
	for i := 0; i < len(lines); i += servePerPost {
		posts = append(posts, append(bytes.Join(lines[i:min(i+servePerPost, len(lines))], []byte("\n")), '\n'))
	}
	client := &http.Client{Timeout: time.Minute}
	var mu sync.Mutex
	var firstErr error
	next := 0
	var wg sync.WaitGroup
	start := time.Now()
	for range serveClients {
		wg.Go(func() {
			for {
				mu.Lock()
				k := next
				next++
				mu.Unlock()
				if k >= len(posts) {
					return
				}
				t0 := time.Now()
				resp, err := client.Post(procs[k%serveInstances].base+"/documents", "application/x-ndjson", bytes.NewReader(posts[k]))
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusAccepted {
						err = fmt.Errorf("POST /documents: %s", resp.Status)
					}
				}
				ms := float64(time.Since(t0).Microseconds()) / 1000
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				latMS = append(latMS, ms)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	wall := time.Since(start)
	if firstErr != nil {
		return 0, nil, 0, firstErr
	}
	acked := time.Now()
	b.logf("  %d documents acknowledged in %.1f s, p99 ack %.1f ms; waiting for the commits", len(lines), wall.Seconds(), percentile(latMS, 99))
	// Every document committed: no journal depth and the commits add up.
	deadline := time.Now().Add(10 * time.Minute)
	for {
		var depth, committed float64
		for _, p := range procs {
			d, err1 := p.metric("tguard_journal_depth")
			c, err2 := p.metric("tguard_documents_committed_total")
			if err1 != nil || err2 != nil {
				return 0, nil, 0, fmt.Errorf("metrics: %v %v", err1, err2)
			}
			depth, committed = depth+d, committed+c
		}
		if depth == 0 && int(committed) >= len(lines) {
			break
		}
		if time.Now().After(deadline) {
			return 0, nil, 0, fmt.Errorf("not all committed after 10 minutes: depth %.0f, committed %.0f", depth, committed)
		}
		time.Sleep(100 * time.Millisecond)
	}
	drain = time.Since(acked)
	for i, p := range procs {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		<-p.exited
		if code := p.cmd.ProcessState.ExitCode(); code != 0 {
			return 0, nil, 0, fmt.Errorf("serve %d exited %d after SIGTERM: %s", i, code, p.errb)
		}
		procs[i] = nil
	}
	return float64(len(lines)) / wall.Seconds(), latMS, drain, nil
}

// serveRows are the table rows of job 7.
func (sr *serveResult) rows() []row {
	return []row{
		{"10", fmt.Sprintf("serve: 3 instances, accepted docs/s ÷ one tguard index run (median of %d rounds)", sr.rounds),
			fmt.Sprintf("%.0f docs/s", median(sr.rate)), fmt.Sprintf("%.0f docs/s", median(sr.baseline)),
			fmt.Sprintf("%.3f", sr.ratio), "≥ 0.8", verdict(sr.ratio >= 0.8)},
		{"10b", fmt.Sprintf("serve: acknowledgement latency p99 (p50, max) of %d requests of %d documents", sr.requests, servePerPost),
			fmt.Sprintf("%.1f ms (%.1f, %.1f)", sr.p99, sr.p50, sr.max), "", "", "≤ 50 ms", verdict(sr.p99 <= 50)},
		{"10c", "serve: every document committed, seconds after the last acknowledgement (per round)",
			fmtList(sr.drain, "%.1f s"), "", "", "none", "info"},
	}
}

// markdown is job 7's section of docs/BENCHMARKS.md.
func (sr *serveResult) markdown(p func(string, ...any)) {
	p("### 10. Serve under load")
	p("")
	p("Three `tguard serve` processes (`--commit-every 1s`, their own journals and owners) on one fresh")
	p("index in a local folder; the corpus is posted to them round-robin, %d documents (JSON lines) a", servePerPost)
	p("request, by %d concurrent clients on loopback. Accepted docs/s = documents acknowledged (202, each", serveClients)
	p("journaled durably first) ÷ the wall time from the first request to the last acknowledgement; a")
	p("request's latency is from sending it to its 202, at the client. The instances take turns with the")
	p("lease and index in the background meanwhile (same 2 cores). The baseline is one `tguard index` run")
	p("of the same documents right before, in the same round. Per round: serve %s docs/s, tguard index",
		fmtList(sr.rate, "%.0f"))
	p("%s docs/s.", fmtList(sr.baseline, "%.0f"))
	p("")
}
