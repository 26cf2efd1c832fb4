// Command bench runs tguard's benchmarks: indexing through the
// bridge against native Rust, the lock's acquire/release against the bare
// system calls and against flock, handoff and same-host failover between
// processes, contended indexing, and peak memory. It prints a table, writes
// docs/BENCHMARKS.md and prints, as its last line, one JSON object of the
// headline figures.
//
//	make bench         # full run (the committed figures)
//	make bench-quick   # under 3 minutes: a quarter of the corpus, fewer cycles
//
// Run it from the repository root after "make build" and the build of the
// native example (the Makefile targets do both). Progress goes to stderr.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/tguard/tguard/tests/helperproc"
)

type config struct {
	quick      bool
	every      int // keep one corpus document in every
	pairs      int // A/B pairs of job 1
	cycles     int // acquire/release cycles of job 2, per loop
	handoffs   int // job 3
	trials     int // job 4
	rounds     int // job 5
	microCount int
	microTime  string
	out        string // docs/BENCHMARKS.md
	microOut   string // docs/lock-bench.txt
}

type bench struct {
	cfg      config
	self     string // this binary, re-executed as helper
	tguard   string
	native   string
	work     string
	corpus   *corpus
	microCmd string
	started  time.Time
	// tantivy-cli, installed by make bench (job 7), and its version.
	tantivyCLI        string
	tantivyCLIVersion string
	beforeFile        string
	beforeLabel       string
}

func (b *bench) logf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "[%5.1fs] "+format+"\n", append([]any{time.Since(b.started).Seconds()}, a...)...)
}

func main() {
	helperproc.Main(helperRoles)
	var b bench
	var keep bool
	flag.BoolVar(&b.cfg.quick, "quick", false, "quick mode: a quarter of the corpus, fewer pairs and cycles (under 3 minutes)")
	flag.StringVar(&b.tguard, "tguard", "bin/tguard", "the tguard binary")
	flag.StringVar(&b.native, "native", "", "the native_index example binary (required)")
	flag.StringVar(&b.cfg.out, "out", "docs/BENCHMARKS.md", "report to write (\"\": none)")
	flag.StringVar(&b.cfg.microOut, "micro-out", "docs/lock-bench.txt", "raw go test -bench output to write (\"\": none)")
	flag.StringVar(&b.work, "work", "", "scratch folder on a local disk (default: a new temporary folder)")
	flag.BoolVar(&keep, "keep", false, "keep the scratch folder")
	flag.StringVar(&b.beforeFile, "before", "", "a file holding the last JSON line of an earlier run (the code before a change), shown beside this run's")
	flag.StringVar(&b.beforeLabel, "before-label", "before", "what the -before run measured (commit, load)")
	flag.StringVar(&b.tantivyCLI, "tantivy-cli", "", "the tantivy-cli binary (required; make bench installs it)")
	flag.StringVar(&b.tantivyCLIVersion, "tantivy-cli-version", "unknown", "tantivy-cli's version, for the report")
	flag.Parse()
	if b.native == "" || b.tantivyCLI == "" {
		fmt.Fprintln(os.Stderr, "bench: -native (rust/target/TRIPLE/release/examples/native_index) and -tantivy-cli are required")
		os.Exit(2)
	}
	if b.cfg.quick {
		b.cfg.every, b.cfg.pairs, b.cfg.cycles, b.cfg.handoffs, b.cfg.trials, b.cfg.rounds = 4, 4, 2000, 1000, 20, 2
		b.cfg.microCount, b.cfg.microTime = 3, "100ms"
	} else {
		b.cfg.every, b.cfg.pairs, b.cfg.cycles, b.cfg.handoffs, b.cfg.trials, b.cfg.rounds = 1, 7, 10000, 2000, 30, 5
		b.cfg.microCount = 5
	}
	if err := b.checkBefore(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	if err := b.run(keep); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func (b *bench) run(keep bool) error {
	b.started = time.Now()
	var err error
	if b.self, err = os.Executable(); err != nil {
		return err
	}
	for _, p := range []*string{&b.tguard, &b.native, &b.tantivyCLI} {
		if *p, err = filepath.Abs(*p); err != nil {
			return err
		}
		if _, err := os.Stat(*p); err != nil {
			return err
		}
	}
	if b.work == "" {
		if b.work, err = os.MkdirTemp("", "tguard-bench-"); err != nil {
			return err
		}
		if !keep {
			defer os.RemoveAll(b.work)
		}
	}
	r := &results{mode: "full", started: time.Now().UTC(), machine: readMachine()}
	if b.cfg.quick {
		r.mode = "quick"
	}
	b.logf("corpus: walking $(go env GOROOT)/src into JSON lines in %s", b.work)
	if b.corpus, err = buildCorpus(b.work, b.cfg.every); err != nil {
		return err
	}
	b.logf("corpus: %d documents, %.1f MB", b.corpus.docs, float64(b.corpus.bytes)/1e6)

	b.logf("1. indexing: %d native/bridge pairs and %d native/tguard-index pairs", b.cfg.pairs, b.cfg.pairs)
	if r.indexing, err = b.jobIndexing(); err != nil {
		return fmt.Errorf("indexing: %w", err)
	}
	b.logf("2. acquire+release: %d cycles each of lock, floor, flock", b.cfg.cycles)
	if r.acquire, err = b.jobAcquire(); err != nil {
		return fmt.Errorf("acquire: %w", err)
	}
	r.acquire.syscallsLock, r.acquire.syscallsBare, r.syscallNote = b.countSyscalls(r.acquire.recordBytes)
	b.logf("3. handoff: %d handoffs between two processes", b.cfg.handoffs)
	if r.handoff, err = b.jobHandoff(); err != nil {
		return fmt.Errorf("handoff: %w", err)
	}
	b.logf("4. failover: %d SIGKILL trials", b.cfg.trials)
	if r.failover, err = b.jobFailover(); err != nil {
		return fmt.Errorf("failover: %w", err)
	}
	b.logf("5. contended indexing: %d round(s) of 1, 2, 4 processes", b.cfg.rounds)
	if r.contended, err = b.jobContended(); err != nil {
		return fmt.Errorf("contended: %w", err)
	}
	b.logf("6. peak RSS of tguard index, half and whole corpus")
	if r.rss, err = b.jobRSS(); err != nil {
		return fmt.Errorf("rss: %w", err)
	}
	b.logf("7. tguard index against tantivy-cli %s: %d pairs", b.tantivyCLIVersion, b.cfg.pairs)
	if r.cli, err = b.jobTantivyCLI(); err != nil {
		return fmt.Errorf("tantivy-cli: %w", err)
	}
	b.logf("8. incremental: unchanged folder again, %d small runs", smallRuns)
	if r.incremental, err = b.jobIncremental(); err != nil {
		return fmt.Errorf("incremental: %w", err)
	}
	b.logf("10. serve under load: 3 instances, %d clients", serveClients)
	if r.serve, err = b.jobServe(); err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	b.logf("micro-benchmarks: go test -bench ./lock/ (count %d)", b.cfg.microCount)
	if r.micro, err = b.jobMicro(); err != nil {
		return fmt.Errorf("micro-benchmarks: %w", err)
	}
	r.wall = time.Since(b.started)
	b.logf("done in %v", r.wall.Round(time.Second))
	return b.report(r)
}
