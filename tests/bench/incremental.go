package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/tguard/tguard/indexer"
)

// Job 8: incremental indexing.
//
// Reindex: "tguard index" over the Go sources folder (text files, one
// document each) into a fresh index and journal, then the same unchanged
// folder again; the ratio is the second run's wall time ÷ the first's,
// median over the rounds. The second run must commit nothing: the index's
// opstamp and token are read before and after it and must be equal (the
// run fails otherwise). A third run, with nothing left to confirm, takes
// no lease at all; its time is shown beside.
//
// Segments: a folder of 100 small files is indexed, then indexed again
// 100 times, each time after one file was changed; the index's segment
// count at the end is the figure.
type incrementalResult struct {
	rounds              int
	first, second, thrd []float64 // seconds
	ratios              []float64
	ratio               float64
	files               int
	smallRuns           int
	segments            int
	mergedTo            int
	// committed says an unchanged run committed or journaled something
	// (the row is then missed, whatever its time); extra counts files
	// journaled by the small runs beyond the one changed each time.
	committed string
	extra     int
}

const smallRuns = 100

type statsOut struct {
	Docs     int    `json:"docs"`
	Segments int    `json:"segments"`
	Opstamp  uint64 `json:"opstamp"`
	Token    uint64 `json:"token"`
}

func (b *bench) indexStats(ix string) (statsOut, error) {
	var s statsOut
	r, err := runTimed(b.tguard, "stats", "--index", ix, "--json")
	if err == nil {
		err = json.Unmarshal(r.stdout, &s)
	}
	return s, err
}

func (b *bench) jobIncremental() (*incrementalResult, error) {
	res := &incrementalResult{rounds: max(b.cfg.rounds/2, 1), smallRuns: smallRuns}
	for i := range res.rounds {
		dir := freshDir(b.work, "reindex-")
		ix, j := filepath.Join(dir, "index"), filepath.Join(dir, "journal.db")
		var walls [3]float64
		var before statsOut
		for k := range walls {
			settle()
			r, s, err := b.tguardIndex(ix, j, "bench", b.corpus.root)
			if err != nil {
				return nil, err
			}
			walls[k] = r.wall.Seconds()
			st, err := b.indexStats(ix)
			if err != nil {
				return nil, err
			}
			switch k {
			case 0:
				before, res.files = st, s.Files
			default:
				if (st != before || s.Accepted != 0) && res.committed == "" {
					res.committed = fmt.Sprintf("run %d of an unchanged folder journaled %d files and left the index at %+v (was %+v)", k+1, s.Accepted, st, before)
					b.logf("  %s", res.committed)
				}
			}
		}
		_ = os.RemoveAll(dir)
		res.first, res.second, res.thrd = append(res.first, walls[0]), append(res.second, walls[1]), append(res.thrd, walls[2])
		res.ratios = append(res.ratios, walls[1]/walls[0])
		b.logf("  round %d/%d: first %.2f s, again %.3f s (%.3f), a third time %.3f s", i+1, res.rounds, walls[0], walls[1], walls[1]/walls[0], walls[2])
	}
	res.ratio = median(res.ratios)

	dir := freshDir(b.work, "segments-")
	defer os.RemoveAll(dir)
	ix, j, docs := filepath.Join(dir, "index"), filepath.Join(dir, "journal.db"), filepath.Join(dir, "docs")
	if err := os.MkdirAll(docs, 0o755); err != nil {
		return nil, err
	}
	write := func(i, run int) error {
		return os.WriteFile(filepath.Join(docs, fmt.Sprintf("f%03d.txt", i)),
			[]byte(fmt.Sprintf("small file %d, version %d\n", i, run)), 0o644)
	}
	for i := range 100 {
		if err := write(i, 0); err != nil {
			return nil, err
		}
	}
	for run := 0; run <= smallRuns; run++ {
		if run > 0 {
			if err := write((run*37)%100, run); err != nil {
				return nil, err
			}
		}
		if _, s, err := b.tguardIndex(ix, j, "bench", docs); err != nil {
			return nil, err
		} else if run > 0 && s.Accepted > 1 {
			res.extra += s.Accepted - 1
		}
	}
	st, err := b.indexStats(ix)
	if err != nil {
		return nil, err
	}
	if st.Docs != 100 {
		return nil, fmt.Errorf("after %d small runs the index holds %d documents, not 100", smallRuns, st.Docs)
	}
	res.segments = st.Segments
	res.mergedTo = -1 // no tguard merge in this build
	if _, err := runTimed(b.tguard, "merge", "--index", ix); err == nil {
		if st, err = b.indexStats(ix); err != nil {
			return nil, err
		}
		res.mergedTo = st.Segments
	}
	b.logf("  %d small runs: %d segments; tguard merge: %d", smallRuns, res.segments, res.mergedTo)
	return res, nil
}

// indexerRacyWindow is shown in the report.
var indexerRacyWindow = indexer.RacyWindow
