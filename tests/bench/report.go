package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tguard/tguard/bridge"
	"golang.org/x/sys/unix"
)

type results struct {
	mode        string
	started     time.Time
	wall        time.Duration
	machine     machine
	indexing    *indexingResult
	acquire     *acquireResult
	syscallNote string
	handoff     *handoffResult
	failover    *failoverResult
	contended   *contendedResult
	rss         *rssResult
	cli         *cliResult
	incremental *incrementalResult
	micro       string
	serve       *serveResult // serve.go
}

type machine struct {
	cpu, kernel, goVersion, rustc, library, fs, load, commit string
	cores                                                    int
	ramGB                                                    float64
}

func readMachine() machine {
	m := machine{cores: runtime.NumCPU(), goVersion: runtime.Version(), library: bridge.Version()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb float64
		if _, err := fmt.Sscanf(string(b), "MemTotal: %f kB", &kb); err == nil {
			m.ramGB = kb / (1 << 20)
		}
	}
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		m.kernel = unix.ByteSliceToString(u.Sysname[:]) + " " + unix.ByteSliceToString(u.Release[:])
	}
	m.load = loadAvg()
	if out, err := exec.Command("rustc", "-V").Output(); err == nil {
		m.rustc = strings.TrimSpace(string(out))
	}
	var st unix.Statfs_t
	if unix.Statfs(os.TempDir(), &st) == nil {
		m.fs = map[int64]string{0xEF53: "ext4", 0x58465342: "xfs", 0x9123683E: "btrfs", 0x01021994: "tmpfs", 0x794c7630: "overlayfs"}[int64(st.Type)]
		if m.fs == "" {
			m.fs = fmt.Sprintf("type 0x%x", st.Type)
		}
	}
	m.commit = "unknown"
	if out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output(); err == nil {
		m.commit = strings.TrimSpace(string(out))
		// The files this run writes do not count as changes.
		st, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no", "--",
			".", ":!docs/BENCHMARKS.md", ":!docs/lock-bench.txt").Output()
		if err == nil && len(bytes.TrimSpace(st)) > 0 {
			m.commit += " (with uncommitted changes)"
		}
	}
	return m
}

// loadAvg is the 1, 5 and 15 minute load averages.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

type row struct {
	n, measure, value, baseline, ratio, target, result string
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

func (r *results) rows() []row {
	ix, ac, ho, fo, ct, rs := r.indexing, r.acquire, r.handoff, r.failover, r.contended, r.rss
	cl, in := r.cli, r.incremental
	return []row{
		{"1", fmt.Sprintf("indexing, bridge ÷ native Rust (docs/s; median of %d pairwise ratios)", ix.pairs),
			fmt.Sprintf("%.0f docs/s", ix.bridgeMedian), fmt.Sprintf("%.0f docs/s", ix.nativeMedian),
			fmt.Sprintf("%.3f", ix.bridgeRatio), "≥ 0.97", verdict(ix.bridgeRatio >= 0.97)},
		{"1b", "the same pairs, documents per CPU-second (user + system)", "", "",
			fmt.Sprintf("%.3f", ix.bridgeCPURatio), "none (cross-check)", "info"},
		{"1c", fmt.Sprintf("indexing, tguard index end to end (journal + lease) ÷ native (%d pairs)", ix.pairs),
			fmt.Sprintf("%.0f docs/s", ix.e2eMedian), fmt.Sprintf("%.0f docs/s", ix.e2eNativeMd),
			fmt.Sprintf("%.3f", ix.e2eRatio), "≥ 0.9", verdict(ix.e2eRatio >= 0.9)},
		{"2", fmt.Sprintf("acquire + release p50, ÷ floor p50 (%d cycles)", ac.cycles),
			fmt.Sprintf("%.1f µs", ac.lockP50), fmt.Sprintf("%.1f µs", ac.floorP50),
			fmt.Sprintf("%.2f", ac.ratioP50), "≤ 1.5", verdict(ac.ratioP50 <= 1.5)},
		{"2b", "acquire + release p99, ÷ floor p99",
			fmt.Sprintf("%.1f µs", ac.lockP99), fmt.Sprintf("%.1f µs", ac.floorP99),
			fmt.Sprintf("%.2f", ac.ratioP99), "none", "info"},
		{"2c", "gofrs/flock Lock + Unlock p50 (p99), kernel lock, one host only",
			fmt.Sprintf("%.1f µs (%.1f)", ac.flockP50, ac.flockP99), "",
			fmt.Sprintf("acquire+release ÷ flock %.1f", ac.lockP50/ac.flockP50), "reference", "info"},
		{"3", fmt.Sprintf("handoff between two processes, p50 (%d handoffs)", ho.n),
			fmt.Sprintf("%.3f ms", ho.p50), "", "", "≤ 2 ms", verdict(ho.p50 <= 2)},
		{"3b", "handoff p99 (max)",
			fmt.Sprintf("%.3f ms (%.1f)", ho.p99, ho.max), "", "", "≤ 20 ms", verdict(ho.p99 <= 20)},
		{"4", fmt.Sprintf("same-host failover after SIGKILL, median (max) of %d, lease 30 s", fo.trials),
			fmt.Sprintf("%.2f ms (%.1f)", fo.median, fo.max), "", "", "≤ 100 ms", verdict(fo.median <= 100)},
		{"5", fmt.Sprintf("contended indexing, 4 processes ÷ 1 (total docs/s; median of %d per-round ratios)", ct.rounds),
			fmt.Sprintf("%.0f docs/s", ct.median[4]), fmt.Sprintf("%.0f docs/s", ct.median[1]),
			fmt.Sprintf("%.3f", ct.ratio4), "≥ 0.9", verdict(ct.ratio4 >= 0.9)},
		{"5b", "contended indexing, 2 processes ÷ 1",
			fmt.Sprintf("%.0f docs/s", ct.median[2]), fmt.Sprintf("%.0f docs/s", ct.median[1]),
			fmt.Sprintf("%.3f", ct.ratio2), "none", "info"},
		{"6", fmt.Sprintf("peak RSS of tguard index, %d docs ÷ %d docs (default budget)", rs.sizes[2].docs, rs.sizes[1].docs),
			fmt.Sprintf("%.1f MB", rs.sizes[2].tguardMB), fmt.Sprintf("%.1f MB", rs.sizes[1].tguardMB),
			fmt.Sprintf("%.3f", rs.ratio), fmt.Sprintf("≤ %.2f (no growth)", rssGrowthLimit), verdict(rs.ratio <= rssGrowthLimit)},
		{"6b", "peak RSS of native_index, same two corpora (reference)",
			fmt.Sprintf("%.1f MB", rs.sizes[2].nativeMB), fmt.Sprintf("%.1f MB", rs.sizes[1].nativeMB),
			fmt.Sprintf("%.3f", rs.sizes[2].nativeMB/rs.sizes[1].nativeMB), "reference", "info"},
		{"6c", fmt.Sprintf("peak RSS of tguard index, %d docs (whole corpus twice) ÷ %d docs", rs.sizes[3].docs, rs.sizes[2].docs),
			fmt.Sprintf("%.1f MB", rs.sizes[3].tguardMB), fmt.Sprintf("%.1f MB", rs.sizes[2].tguardMB),
			fmt.Sprintf("%.3f", rs.doubleRatio), "none (the budget fills here)", "info"},
		{"6d", fmt.Sprintf("peak RSS growth per doubling past the budget fill: tguard index, %d docs (four times) ÷ %d docs (twice)", rs.sizes[4].docs, rs.sizes[3].docs),
			fmt.Sprintf("%.1f MB", rs.sizes[4].tguardMB), fmt.Sprintf("%.1f MB", rs.sizes[3].tguardMB),
			fmt.Sprintf("%.3f", rs.quadRatio), fmt.Sprintf("≤ %.2f", rssGrowthLimit), verdict(rs.quadRatio <= rssGrowthLimit)},
		{"7", fmt.Sprintf("indexing, tguard index end to end ÷ tantivy-cli %s (docs/s; %d threads, 128 MiB; median of %d pairwise ratios)", cl.version, cliThreads, cl.pairs),
			fmt.Sprintf("%.0f docs/s", cl.tgMedian), fmt.Sprintf("%.0f docs/s", cl.cliMedian),
			fmt.Sprintf("%.3f", cl.ratio), "≥ 1.0", verdict(cl.ratio >= 1.0)},
		{"7b", "peak RSS, tguard index ÷ tantivy-cli (same pairs, median of ratios)",
			fmt.Sprintf("%.1f MB", cl.tguardRSSM), fmt.Sprintf("%.1f MB", cl.cliRSSMd),
			fmt.Sprintf("%.3f", cl.rssRatio), "≤ 1.2", verdict(cl.rssRatio <= 1.2)},
		{"7c", "the same pairs, documents per CPU-second (user + system; tantivy-cli parses JSON on a thread of its own)", "", "",
			fmt.Sprintf("%.3f", cl.cpuRatio), "none (cross-check)", "info"},
		{"8", fmt.Sprintf("tguard index of an unchanged folder again ÷ the first run (wall time; %d files; median of %d)", in.files, in.rounds),
			fmt.Sprintf("%.3f s", median(in.second)), fmt.Sprintf("%.2f s", median(in.first)),
			fmt.Sprintf("%.3f", in.ratio), "≤ 0.1, nothing committed", verdict(in.ratio <= 0.1 && in.committed == "")},
		{"8b", "the same folder a third time (nothing left to confirm: no lease)",
			fmt.Sprintf("%.3f s", median(in.thrd)), fmt.Sprintf("%.2f s", median(in.first)),
			fmt.Sprintf("%.3f", median(in.thrd)/median(in.first)), "none", "info"},
		{"9", fmt.Sprintf("segments after %d small runs (one changed file each)", in.smallRuns),
			fmt.Sprintf("%d", in.segments), "", "", "≤ 10", verdict(in.segments <= 10)},
		{"9b", "segments after tguard merge (-1: no merge command)", fmt.Sprintf("%d", in.mergedTo), "", "", "1", verdict(in.mergedTo == 1)},
	}
}

// allRows are rows with those of the jobs that ran besides.
func (r *results) allRows() []row {
	rows := r.rows()
	if r.serve != nil {
		rows = append(rows, r.serve.rows()...)
	}
	return rows
}

var tableHeader = row{"#", "measure", "value", "baseline", "ratio", "target", "result"}

func (r *results) textTable() string {
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', 0)
	for _, x := range append([]row{tableHeader}, r.allRows()...) {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", x.n, x.measure, x.value, x.baseline, x.ratio, x.target, x.result)
	}
	_ = tw.Flush()
	return buf.String()
}

func (r *results) markdownTable() string {
	var buf bytes.Buffer
	for i, x := range append([]row{tableHeader}, r.allRows()...) {
		fmt.Fprintf(&buf, "| %s | %s | %s | %s | %s | %s | %s |\n", x.n, x.measure, x.value, x.baseline, x.ratio, x.target, x.result)
		if i == 0 {
			buf.WriteString("|---|---|---:|---:|---:|---|---|\n")
		}
	}
	return buf.String()
}

func round(x float64, digits int) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return -1
	}
	p := math.Pow(10, float64(digits))
	return math.Round(x*p) / p
}

// headline is the last line of stdout: exactly these keys, numbers only.
func (r *results) headline() ([]byte, error) {
	type headline struct {
		BridgeNativeRatio   float64 `json:"bridge_native_ratio"`
		AcquireReleaseP50US float64 `json:"acquire_release_p50_us"`
		FloorP50US          float64 `json:"floor_p50_us"`
		FlockP50US          float64 `json:"flock_p50_us"`
		HandoffP50US        float64 `json:"handoff_p50_us"`
		HandoffP99US        float64 `json:"handoff_p99_us"`
		FailoverSameHostMS  float64 `json:"failover_same_host_ms"`
		Contended4Vs1Ratio  float64 `json:"contended_4_vs_1_ratio"`
		PeakRSSMB           float64 `json:"peak_rss_mb"`
		IndexVsTantivyCLI   float64 `json:"index_vs_tantivy_cli"`
		IndexE2EVsNative    float64 `json:"index_e2e_vs_native"`
		ReindexUnchanged    float64 `json:"reindex_unchanged_ratio"`
		PeakRSSVsCLI        float64 `json:"peak_rss_vs_tantivy_cli"`
		RSSGrowthPerDouble  float64 `json:"rss_growth_per_doubling"`
		SegmentsAfterRuns   int     `json:"segments_after_100_small_runs"`
	}
	return json.Marshal(headline{
		BridgeNativeRatio:   round(r.indexing.bridgeRatio, 3),
		AcquireReleaseP50US: round(r.acquire.lockP50, 1),
		FloorP50US:          round(r.acquire.floorP50, 1),
		FlockP50US:          round(r.acquire.flockP50, 1),
		HandoffP50US:        round(r.handoff.p50*1000, 1),
		HandoffP99US:        round(r.handoff.p99*1000, 1),
		FailoverSameHostMS:  round(r.failover.median, 2),
		Contended4Vs1Ratio:  round(r.contended.ratio4, 3),
		PeakRSSMB:           round(r.rss.sizes[2].tguardMB, 1),
		IndexVsTantivyCLI:   round(r.cli.ratio, 3),
		IndexE2EVsNative:    round(r.indexing.e2eRatio, 3),
		ReindexUnchanged:    round(r.incremental.ratio, 3),
		PeakRSSVsCLI:        round(r.cli.rssRatio, 3),
		RSSGrowthPerDouble:  round(r.rss.quadRatio, 3),
		SegmentsAfterRuns:   r.incremental.segments,
	})
}

func (b *bench) report(r *results) error {
	head, err := r.headline()
	if err != nil {
		return err
	}
	if b.cfg.out != "" {
		md := b.markdown(r, head)
		cmp, err := b.beforeTable(head)
		if err != nil {
			return err
		}
		if cmp != "" {
			md = strings.Replace(md, "## How each figure is measured", cmp+"## How each figure is measured", 1)
		}
		if err := os.WriteFile(b.cfg.out, []byte(md), 0o644); err != nil {
			return err
		}
		b.logf("wrote %s", b.cfg.out)
	}
	fmt.Printf("tguard benchmarks, %s mode, %s, commit %s\n\n", r.mode, r.started.Format("2006-01-02 15:04 MST"), r.machine.commit)
	fmt.Print(r.textTable())
	fmt.Println()
	fmt.Println(string(head))
	return nil
}

func fmtList(xs []float64, format string) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = fmt.Sprintf(format, x)
	}
	return strings.Join(parts, ", ")
}
