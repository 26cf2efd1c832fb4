package main

import (
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/tguard/tguard/tests/helperproc"
)

// Job 1: indexing through the bridge against native Rust, A B A B ...
//
// Each pair is one native run (A) then one bridge run (B), each a fresh
// process on a fresh index; its docs/s is documents ÷ the process's wall
// time (start to exit, taken here). The ratio of a pair is B ÷ A; the
// result is the median of the pairwise ratios. The end-to-end product
// ("tguard index", with its SQLite journal and the lease) is paired the
// same way against its own native run, in a second series of pairs.
// Before every timed run the page cache's dirty pages are written back
// (sync), so that no run pays for the writes of the one before it.
// Documents per CPU-second (user + system, all threads, from rusage) are
// kept too: on a shared machine they move less than wall time.
type indexingResult struct {
	pairs                  int
	docs                   int
	threads                int
	native, bridge         []indexRun // the first series, per pair
	e2eNative, e2e         []indexRun // the second series
	bridgeRatios           []float64  // per pair, wall docs/s
	bridgeCPURatios        []float64  // per pair, docs per CPU-second
	e2eRatios              []float64
	bridgeRatio, e2eRatio  float64 // medians of the pairwise ratios
	bridgeCPURatio         float64
	nativeMedian           float64 // docs/s
	bridgeMedian           float64
	e2eMedian, e2eNativeMd float64
}

// indexRun is one timed indexing process.
type indexRun struct {
	rate    float64 // documents per second of wall time
	cpuRate float64 // documents per CPU-second
}

func newIndexRun(docs int, r timedRun) indexRun {
	return indexRun{rate: float64(docs) / r.wall.Seconds(), cpuRate: float64(docs) / r.cpu.Seconds()}
}

type nativeOut struct {
	Docs    int     `json:"docs"`
	Bad     int     `json:"bad"`
	Threads int     `json:"threads"`
	Memory  uint64  `json:"memory"`
	Seconds float64 `json:"seconds"`
}

// settle writes back what earlier runs left dirty in the page cache and
// waits for it, so that no run pays for the one before it.
func settle() { unix.Sync() }

func (b *bench) runNative(input string) (indexRun, nativeOut, error) {
	settle()
	dir := freshDir(b.work, "native-")
	defer os.RemoveAll(dir)
	var out nativeOut
	r, err := runTimed(b.native, "--index", dir, input)
	if err == nil {
		err = lastJSON(r.stdout, &out)
	}
	if err == nil && out.Docs != b.corpus.docs {
		err = fmt.Errorf("native indexed %d documents of %d", out.Docs, b.corpus.docs)
	}
	return newIndexRun(out.Docs, r), out, err
}

func (b *bench) runBridge(input string) (indexRun, error) {
	settle()
	dir := freshDir(b.work, "bridge-")
	defer os.RemoveAll(dir)
	var out struct{ Docs, Bad int }
	cmd, err := helperproc.Command("bridge-index", helperproc.Param("INDEX", dir), helperproc.Param("INPUT", input))
	if err != nil {
		return indexRun{}, err
	}
	r, err := runTimedCmd(cmd)
	if err == nil {
		err = lastJSON(r.stdout, &out)
	}
	if err == nil && out.Docs != b.corpus.docs {
		err = fmt.Errorf("bridge indexed %d documents of %d", out.Docs, b.corpus.docs)
	}
	return newIndexRun(out.Docs, r), err
}

func (b *bench) runProduct(input string) (indexRun, error) {
	settle()
	dir := freshDir(b.work, "e2e-")
	defer os.RemoveAll(dir)
	r, s, err := b.tguardIndex(filepath.Join(dir, "index"), filepath.Join(dir, "journal.db"), "bench", input)
	if err == nil && s.Indexed != b.corpus.docs {
		err = fmt.Errorf("tguard index indexed %d documents of %d", s.Indexed, b.corpus.docs)
	}
	return newIndexRun(s.Indexed, r), err
}

func (b *bench) jobIndexing() (*indexingResult, error) {
	in := b.corpus.full
	res := &indexingResult{pairs: b.cfg.pairs, docs: b.corpus.docs}
	// One untimed run of each first: the corpus file is in the page cache
	// and the binaries are loaded for every timed run alike.
	_, out, err := b.runNative(in)
	if err != nil {
		return nil, err
	}
	res.threads = out.Threads
	if _, err := b.runBridge(in); err != nil {
		return nil, err
	}
	if _, err := b.runProduct(in); err != nil {
		return nil, err
	}
	res.native, res.bridge, res.bridgeRatios, res.bridgeCPURatios, err = b.alternate(in, "bridge", b.runBridge)
	if err != nil {
		return nil, err
	}
	res.e2eNative, res.e2e, res.e2eRatios, _, err = b.alternate(in, "tguard index", b.runProduct)
	if err != nil {
		return nil, err
	}
	rates := func(rs []indexRun) []float64 {
		xs := make([]float64, len(rs))
		for i, r := range rs {
			xs[i] = r.rate
		}
		return xs
	}
	res.bridgeRatio, res.e2eRatio = median(res.bridgeRatios), median(res.e2eRatios)
	res.bridgeCPURatio = median(res.bridgeCPURatios)
	res.nativeMedian, res.bridgeMedian = median(rates(res.native)), median(rates(res.bridge))
	res.e2eMedian, res.e2eNativeMd = median(rates(res.e2e)), median(rates(res.e2eNative))
	return res, nil
}

// alternate runs native, then run, b.cfg.pairs times (A B A B ...), and
// returns both series with the pairwise ratios of docs/s and of docs per
// CPU-second (run ÷ native).
func (b *bench) alternate(in, name string, run func(string) (indexRun, error)) (natives, runs []indexRun, ratios, cpuRatios []float64, err error) {
	for i := range b.cfg.pairs {
		a, _, err := b.runNative(in)
		if err != nil {
			return nil, nil, nil, nil, err
		}
		r, err := run(in)
		if err != nil {
			return nil, nil, nil, nil, err
		}
		natives, runs = append(natives, a), append(runs, r)
		ratios, cpuRatios = append(ratios, r.rate/a.rate), append(cpuRatios, r.cpuRate/a.cpuRate)
		b.logf("  pair %d/%d: native %.0f, %s %.0f docs/s (%.3f; per CPU-second %.3f)",
			i+1, b.cfg.pairs, a.rate, name, r.rate, r.rate/a.rate, r.cpuRate/a.cpuRate)
	}
	return natives, runs, ratios, cpuRatios, nil
}
