package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"

	"github.com/tguard/tguard/bridge"
)

// Job 7: "tguard index" (journal, lease, fence and all) against tantivy-cli,
// the tool a user would pick instead, A B A B ... on the corpus's JSON
// lines: same thread count (2) and memory budget (128 MiB in all: the
// cli's -m is divided by its thread count before Tantivy divides it
// again, so -t 2 -m 256 MiB), each a fresh process on a fresh index (the
// cli's an empty index: a meta.json holding tguard's default schema). The
// ratio of a pair is tguard's docs/s ÷ the cli's; the result is the median
// of the pairwise ratios. The same pairs give the peak RSS ratio (each
// process's own VmHWM).
type cliResult struct {
	version              string
	pairs                int
	cli, tguard          []indexRun
	cliRSS, tguardRSS    []float64 // MB
	ratios, rssRatios    []float64
	cpuRatios            []float64 // docs per CPU-second, tguard ÷ cli
	ratio, rssRatio      float64
	cpuRatio             float64
	cliMedian, tgMedian  float64 // docs/s
	cliRSSMd, tguardRSSM float64
}

const cliThreads = 2

var docstampRE = regexp.MustCompile(`Commit succeed, docstamp at \d+`)

func (b *bench) runCLI(input string) (indexRun, float64, error) {
	settle()
	dir := freshDir(b.work, "cli-")
	defer os.RemoveAll(dir)
	// An empty index with tguard's default schema: what tantivy-cli's
	// "new" would write, without its interactive prompts.
	idx, err := bridge.OpenOrCreate(dir, "")
	if err != nil {
		return indexRun{}, 0, err
	}
	_ = idx.Close()
	r, err := runTimed(b.tantivyCLI, "index", "-i", dir, "-f", input,
		"-t", strconv.Itoa(cliThreads), "-m", strconv.Itoa(cliThreads*(128<<20)))
	if err != nil {
		return indexRun{}, 0, err
	}
	if !docstampRE.Match(r.stdout) {
		return indexRun{}, 0, fmt.Errorf("tantivy-cli did not commit: %s", tail(r.stdout, 500))
	}
	// Counted by reading its index (its docstamp is an opstamp).
	st, err := b.indexStats(dir)
	if err != nil {
		return indexRun{}, 0, fmt.Errorf("reading tantivy-cli's index: %w", err)
	}
	if st.Docs != b.corpus.docs {
		return indexRun{}, 0, fmt.Errorf("tantivy-cli indexed %d documents of %d", st.Docs, b.corpus.docs)
	}
	return newIndexRun(b.corpus.docs, r), float64(r.maxRSSKB) / 1024, nil
}

func (b *bench) runTguardThreads(input string) (indexRun, float64, error) {
	settle()
	dir := freshDir(b.work, "e2e-cli-")
	defer os.RemoveAll(dir)
	r, err := runTimed(b.tguard, "index", "--index", filepath.Join(dir, "index"), "--journal", filepath.Join(dir, "journal.db"),
		"--owner", "bench", "--threads", strconv.Itoa(cliThreads), "--json", input)
	var s indexSummary
	if err == nil {
		err = lastJSON(r.stdout, &s)
	}
	if err == nil && s.Indexed != b.corpus.docs {
		err = fmt.Errorf("tguard index indexed %d documents of %d", s.Indexed, b.corpus.docs)
	}
	return newIndexRun(s.Indexed, r), float64(r.maxRSSKB) / 1024, err
}

func (b *bench) jobTantivyCLI() (*cliResult, error) {
	res := &cliResult{version: b.tantivyCLIVersion, pairs: b.cfg.pairs}
	in := b.corpus.full
	// Untimed warm-up of each.
	if _, _, err := b.runCLI(in); err != nil {
		return nil, err
	}
	if _, _, err := b.runTguardThreads(in); err != nil {
		return nil, err
	}
	for i := range b.cfg.pairs {
		c, cRSS, err := b.runCLI(in)
		if err != nil {
			return nil, err
		}
		t, tRSS, err := b.runTguardThreads(in)
		if err != nil {
			return nil, err
		}
		res.cli, res.tguard = append(res.cli, c), append(res.tguard, t)
		res.cliRSS, res.tguardRSS = append(res.cliRSS, cRSS), append(res.tguardRSS, tRSS)
		res.ratios = append(res.ratios, t.rate/c.rate)
		res.cpuRatios = append(res.cpuRatios, t.cpuRate/c.cpuRate)
		res.rssRatios = append(res.rssRatios, tRSS/cRSS)
		b.logf("  pair %d/%d: tantivy-cli %.0f docs/s %.0f MB, tguard index %.0f docs/s %.0f MB (%.3f; RSS %.3f)",
			i+1, b.cfg.pairs, c.rate, cRSS, t.rate, tRSS, t.rate/c.rate, tRSS/cRSS)
	}
	rates := func(rs []indexRun) []float64 {
		xs := make([]float64, len(rs))
		for i, r := range rs {
			xs[i] = r.rate
		}
		return xs
	}
	res.ratio, res.rssRatio = median(res.ratios), median(res.rssRatios)
	res.cpuRatio = median(res.cpuRatios)
	res.cliMedian, res.tgMedian = median(rates(res.cli)), median(rates(res.tguard))
	res.cliRSSMd, res.tguardRSSM = median(res.cliRSS), median(res.tguardRSS)
	return res, nil
}
