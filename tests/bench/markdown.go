package main

import (
	"fmt"
	"strings"
	"time"
)

// markdown renders docs/BENCHMARKS.md. Every figure in it comes from r.
func (b *bench) markdown(r *results, head []byte) string {
	var s strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&s, format+"\n", a...) }
	m, c := r.machine, b.corpus
	ix, ac, ho, fo, ct, rs := r.indexing, r.acquire, r.handoff, r.failover, r.contended, r.rss

	p("# Benchmarks")
	p("")
	p("This file is written by `make bench` (or `make bench-quick`); do not edit it by hand.")
	p("Every figure below was printed by the run described here. The machine is shared")
	p("(2 cores, other work running), so absolute figures are noisy: every target is a")
	p("ratio against a baseline measured in the same run, interleaved with it.")
	p("")
	p("* **Mode:** %s (`make bench%s`), %s in all", r.mode, map[bool]string{true: "-quick", false: ""}[r.mode == "quick"], r.wall.Round(time.Second))
	p("* **Date:** %s", r.started.Format("2006-01-02 15:04 MST"))
	p("* **Commit:** %s", m.commit)
	p("* **Machine:** %s, %d cores, %.1f GiB RAM, %s; scratch folder on %s (local disk); load average",
		m.cpu, m.cores, m.ramGB, m.kernel, m.fs)
	p("  (1, 5, 15 min) %s at the start, %s at the end: the other work on this shared machine", m.load, loadAvg())
	p("* **Toolchain:** %s, %s, %s", m.goVersion, m.rustc, m.library)
	p("* **Corpus:** `$(go env GOROOT)/src` of %s, walked by tguard's own Walker into JSON lines", m.goVersion)
	if b.cfg.every > 1 {
		p("  (one document in every %d, spread over the whole tree):", b.cfg.every)
	} else {
		p("  (all of it):")
	}
	p("  %d documents, %.1f MB of JSON lines (binary and non-UTF-8 files are skipped, as `tguard index` skips them).", c.docs, float64(c.bytes)/1e6)
	p("")
	p("## Results")
	p("")
	s.WriteString(r.markdownTable())
	p("")
	p("The run's last line (the same figures, for scripts):")
	p("")
	p("```json")
	p("%s", head)
	p("```")
	p("")
	p("Targets missed are reported as missed, with the measured ratio; nothing was tuned to pass.")
	p("")

	p("## How each figure is measured")
	p("")
	p("### 1. Indexing through the bridge against native Rust")
	p("")
	p("* **Native (A):** `rust/examples/native_index.rs`, a Cargo example (not part of the library),")
	p("  uses Tantivy 0.27.0 directly in one process: the crate's own schema (`schema::parse_schema(\"\")`,")
	p("  the default), the same index creation, the same writer (memory budget 128 MiB, %d indexing", ix.threads)
	p("  threads by the bridge's own thread plan, background merges off), the same line parser")
	p("  (`ingest::parse_line`) and upsert (delete the id's term, add the document), batches of")
	p("  1,000 lines or 8 MiB, and one commit at the end with a payload.")
	p("* **Bridge (B):** this benchmark's helper process (Go): tguard's Walker reads the JSON-lines")
	p("  file, tguard's Batcher (1,000 documents or 8 MiB per call) calls `bridge.Writer.AddJSONLines`")
	p("  through cgo, one `Commit` at the end. This is exactly how `tguard index` applies documents,")
	p("  without the SQLite journal and the lease. Same memory budget and thread count (the bridge's default).")
	p("* docs/s of a run = documents ÷ wall time of the process (start to exit, taken by the driver),")
	p("  on a fresh index each time. One untimed run of each comes first (page cache, binaries), and")
	p("  before every timed run `sync` writes back what earlier runs left dirty (untimed), so that no")
	p("  run pays for the index files of the one before. Runs go A B A B ...; the figure is the median")
	p("  of the pairwise ratios B ÷ A.")
	p("* **Per CPU-second (1b):** documents ÷ (user + system time of the process, all threads, from")
	p("  rusage), same pairs. Other work on the machine moves it less than wall time; a cross-check only.")
	p("* **End to end (1c):** `tguard index --json --journal J --owner bench corpus.jsonl` on a fresh")
	p("  index: walk, journal every document in SQLite, acquire the lease, apply, fenced commit, release.")
	p("  A second series of pairs, native then `tguard index`, after the first. This is the product's")
	p("  cost, not a target.")
	p("")
	p("| pair | native docs/s | bridge docs/s | ratio | native docs/CPU-s | bridge docs/CPU-s | ratio |")
	p("|---:|---:|---:|---:|---:|---:|---:|")
	for i := range ix.bridgeRatios {
		p("| %d | %.0f | %.0f | %.3f | %.0f | %.0f | %.3f |", i+1, ix.native[i].rate, ix.bridge[i].rate, ix.bridgeRatios[i],
			ix.native[i].cpuRate, ix.bridge[i].cpuRate, ix.bridgeCPURatios[i])
	}
	p("")
	p("| pair (end to end) | native docs/s | tguard index docs/s | ratio |")
	p("|---:|---:|---:|---:|")
	for i := range ix.e2eRatios {
		p("| %d | %.0f | %.0f | %.3f |", i+1, ix.e2eNative[i].rate, ix.e2e[i].rate, ix.e2eRatios[i])
	}
	p("")

	p("### 2. Uncontended acquire + release")
	p("")
	p("Three loops, each in its own folder under the scratch folder, %d cycles each, run", ac.cycles)
	p("interleaved in blocks of %d cycles (lock, floor, flock, lock, ...) after one untimed block of", acquireBlock)
	p("each; each cycle is timed alone (`time.Now` before and after).")
	p("")
	p("* **lock:** `Locker.Acquire` then `Lease.Release`, one `Locker` (`lock.New(dir)`, default options).")
	p("* **floor:** the file-system work of that cycle done with bare system calls (`golang.org/x/sys/unix`)")
	p("  in a loop, with nothing else: no JSON, no identity, no goroutines or timers, no checks of what")
	p("  was read. Per cycle, following lock/view.go and lock/filebackend.go in the steady state (the")
	p("  previous generation g−1 released, g−2 still there to collect):")
	p("  1. read the view: list `.tguard-lease/`; list `g−1/`; list `g−1/1/` (the end marker); stat `g−1/1`;")
	p("     open, read, close `g−1/owner.json`;")
	p("  2. grant: `mkdir g`; list `.tguard-lease/` (is g the newest?); open, **fsync**, close")
	p("     `.tguard-lease/` (the protocol fsyncs the folder so that a crash cannot bring back a lower token;")
	p("     it fsyncs nothing else);")
	p("  3. owner record: exclusive create `g/owner.json.tmp-…`, write %d bytes (the size of the record the", ac.recordBytes)
	p("     lock wrote in this run), close, rename to `g/owner.json`;")
	p("  4. collect generation g−2: list it, unlink its `owner.json`, list its slot, unlink the marker,")
	p("     rmdir the slot, rmdir it;")
	p("  5. release: `mkdir g/1`; exclusive create `g/1/released`, close.")
	p("")
	p("  A list is open(O_DIRECTORY), getdents64 until it returns 0, close. This is the least a process")
	p("  must do to run this protocol; it is not the cheapest possible lock (that is flock, below).")
	p("* **flock:** `github.com/gofrs/flock` `Lock` then `Unlock` on one file (open, flock, flock, close):")
	p("  a kernel lock, cheaper, but it does not work across the hosts of a share, which is what")
	p("  tguard is for. A reference, not a target.")
	p("")
	if ac.syscallsLock != nil && ac.syscallsBare != nil {
		p("System calls per cycle, all threads, counted in this run by `strace -f -c` over %d cycles", straceCycles)
		p("minus a run of 0 cycles (names with at least 0.5 a cycle):")
		p("")
		p("* lock: **%.1f** (%s)", ac.syscallsLock.total, describeSyscalls(ac.syscallsLock))
		p("* floor: **%.1f** (%s)", ac.syscallsBare.total, describeSyscalls(ac.syscallsBare))
		p("")
	} else if r.syscallNote != "" {
		p("System calls per cycle: %s.", r.syscallNote)
		p("")
	}
	p("| loop | p50 µs | p90 µs | p99 µs | max µs |")
	p("|---|---:|---:|---:|---:|")
	for _, l := range []struct {
		name string
		xs   []float64
	}{{"lock", ac.lock}, {"floor", ac.floor}, {"flock", ac.flock}} {
		p("| %s | %.1f | %.1f | %.1f | %.1f |", l.name, percentile(l.xs, 50), percentile(l.xs, 90), percentile(l.xs, 99), percentile(l.xs, 100))
	}
	p("")

	p("### 3. Handoff between two processes")
	p("")
	p("Two helper processes (this benchmark's binary re-executed, each with its own `Locker`, lease")
	p("30 s) alternate on one lease, %d handoffs after 20 untimed ones. For each, the waiter is told", ho.n)
	p("to acquire; when its first attempt has found the lease held (it reports the lock's own debug log")
	p("record \"lock: held\") and 2 ms more have passed, the holder is told to release. The handoff is the")
	p("waiter's CLOCK_MONOTONIC right after `Acquire` returned minus the holder's right before it called")
	p("`Release`; so it includes the whole release (slot, marker), the waiter's wake-up (inotify on this")
	p("host) and its whole grant (read, mkdir, fsync, record). p50 %.3f ms, p90 %.3f ms, p99 %.3f ms,", ho.p50, percentile(ho.ms, 90), ho.p99)
	p("max %.3f ms. Of that, the holder's `Release` call alone (until it returned): p50 %.3f ms, p99 %.3f ms;",
		ho.max, ho.releaseP50, percentile(ho.releaseMS, 99))
	p("for comparison, an uncontended acquire + release in one process (section 2) took p50 %.3f ms.", ac.lockP50/1000)
	p("")

	p("### 4. Same-host failover")
	p("")
	p("A helper holds the lease (30 s); a second helper waits in `Acquire` (it has reported the lease")
	p("held, and 5 ms more have passed); the driver reads CLOCK_MONOTONIC and sends SIGKILL to the")
	p("holder, then reaps it as a supervisor would. The failover is the waiter's CLOCK_MONOTONIC right")
	p("after `Acquire` returned minus the driver's before kill(2). The waiter learns of the death from a")
	p("pidfd (lock/watchexit_linux.go), proves it from /proc, ends the generation and is granted; waiting")
	p("for the lease to expire would take over 30 s. %d trials, each in a fresh folder (ms):", fo.trials)
	p("%s.", fmtList(fo.ms, "%.2f"))
	p("")

	p("### 5. Contended indexing")
	p("")
	p("The corpus is dealt into four quarters (document i to quarter i mod 4: %d, %d, %d, %d documents).",
		c.quarterN[0], c.quarterN[1], c.quarterN[2], c.quarterN[3])
	p("k = 1, 2, 4 `tguard index` processes start together, process i indexing quarter i (its own")
	p("journal and owner) into one shared, fresh index through the lease: each journals in parallel,")
	p("then they take turns applying and committing (`sync` before each run, untimed). Total docs/s = all documents indexed ÷ wall time")
	p("from the first start to the last exit. Rounds of (1, 2, 4), %d round(s); the ratios in the table above are", ct.rounds)
	p("the medians of the per-round ratios (k processes ÷ the 1-process run of the same round). Per k:")
	p("")
	p("| processes | docs/s per round | median |")
	p("|---:|---|---:|")
	for _, k := range contendedKs {
		p("| %d | %s | %.0f |", k, fmtList(ct.rate[k], "%.0f"), ct.median[k])
	}
	p("")

	p("### 6. Peak resident memory")
	p("")
	p("`tguard index` with the default memory budget (128 MiB), each on a fresh index and journal, over")
	p("a quarter, a half (every second document), all of the corpus, and all of it two and four times")
	p("(each copy with \"copyK:\" before each id, so two and four times the documents); the peak is the")
	p("child's high-water mark of its own memory (`VmHWM` in /proc, read every 5 ms; not `ru_maxrss`, which for a child Go starts by vfork begins at the parent's peak; MB here is 2^20 bytes). The native example's peak over the")
	p("same files is beside it: Tantivy driven directly, without Go, the journal, the bridge's queue budget")
	p("or its malloc arena limit. Met when the whole corpus peaks at most %.0f%% above the half (fixed before", (rssGrowthLimit-1)*100)
	p("the first run, and kept). The half corpus does not fill the writer's 128 MiB budget, so part of")
	p("that growth is the budget being used as designed; rows 6c and 6d show the growth per doubling")
	p("of a corpus that fills it.")
	p("")
	p("What the bridge does about memory (each measured with massif and /proc before it was adopted):")
	p("Tantivy 0.27.0 queues up to 10,000 parsed documents between `add_document` and its indexing")
	p("threads (`PIPELINE_MAX_SIZE_IN_DOCS`), outside the memory budget (here %.1f KB of JSON each on", float64(c.bytes)/float64(c.docs)/1000)
	p("average); the bridge admits documents only while the queue holds under a quarter of the budget")
	p("(rust/src/queue_budget.rs). `delete_term` keeps about 1.2 KB per upsert until the commit; the")
	p("bridge queues its deletes with a weight that holds only the term (rust/src/id_delete.rs). And")
	p("glibc's per-thread malloc arenas kept freed memory apart; the bridge limits them to one per")
	p("indexing thread plus one (rust/src/malloc_arenas.rs). native_index uses the same deletes but")
	p("neither of the other two.")
	p("")
	p("| corpus | documents | tguard index MB | native_index MB |")
	p("|---|---:|---:|---:|")
	for _, sz := range rs.sizes {
		p("| %s | %d | %.1f | %.1f |", sz.name, sz.docs, sz.tguardMB, sz.nativeMB)
	}
	p("")

	if r.serve != nil {
		r.serve.markdown(p)
	}
	p("## Go micro-benchmarks of the lock")
	p("")
	p("`%s`, verbatim (benchstat reads this format; also in [lock-bench.txt](lock-bench.txt)", b.microCmd)
	p("when written by the same run). BenchmarkHandoff is in one process, two `Locker`s, with the waiter")
	p("blocked 2 ms before the release (timer stopped meanwhile).")
	p("")
	p("```")
	s.WriteString(strings.TrimRight(r.micro, "\n") + "\n")
	p("```")
	p("")

	p("## How to rerun")
	p("")
	p("```sh")
	p("make bench        # full: whole corpus, %d pairs, 10,000 cycles, 2,000 handoffs, 30 failovers, 5 rounds; about 8 minutes", 7)
	p("make bench-quick  # a quarter of the corpus, 4 pairs, 2,000 cycles, 1,000 handoffs, 20 failovers, 2 rounds; under 3 minutes")
	p("```")
	p("")
	p("Both build `bin/tguard`, the native example (`cargo build --release --locked --target TRIPLE")
	p("--manifest-path rust/Cargo.toml --example native_index`) and the driver (`tests/bench`, a Go")
	p("program: `go build -o bin/tguard-bench ./tests/bench`), then run it. Both rewrite this file and")
	p("`docs/lock-bench.txt`; the committed copy is from a full run. The table goes to stdout, progress")
	p("to stderr, and the last line of stdout is the JSON object above. To compare two commits'")
	p("micro-benchmarks: `benchstat old.txt docs/lock-bench.txt`. Counting system calls needs `strace`")
	p("(skipped, and said so, without it).")
	return s.String()
}
