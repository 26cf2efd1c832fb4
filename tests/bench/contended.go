package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Job 5: contended indexing. k = 1, 2, 4 "tguard index" processes start
// together, process i indexing quarter i of the corpus (its own journal,
// its own owner) into one shared, fresh index through the lease. Total
// docs/s = documents indexed by all ÷ wall time from the first start to
// the last exit. The rounds (1, 2, 4) repeat; each k's figure is its
// median over the rounds, and the ratios are the medians of the per-round
// ratios (k processes ÷ the 1-process run of the same round), as the A/B
// pairs of job 1: this machine's load drifts between rounds more than
// within one.
type contendedResult struct {
	rounds         int
	rate           map[int][]float64 // docs/s per round
	median         map[int]float64
	ratio2, ratio4 float64
}

var contendedKs = []int{1, 2, 4}

func (b *bench) jobContended() (*contendedResult, error) {
	res := &contendedResult{rounds: b.cfg.rounds, rate: map[int][]float64{}, median: map[int]float64{}}
	for r := range b.cfg.rounds {
		for _, k := range contendedKs {
			rate, err := b.contendedRun(k)
			if err != nil {
				return nil, err
			}
			res.rate[k] = append(res.rate[k], rate)
			b.logf("  round %d/%d: %d process(es): %.0f docs/s", r+1, b.cfg.rounds, k, rate)
		}
	}
	for _, k := range contendedKs {
		res.median[k] = median(res.rate[k])
	}
	var r2, r4 []float64
	for r := range b.cfg.rounds {
		r2 = append(r2, res.rate[2][r]/res.rate[1][r])
		r4 = append(r4, res.rate[4][r]/res.rate[1][r])
	}
	res.ratio2, res.ratio4 = median(r2), median(r4)
	return res, nil
}

func (b *bench) contendedRun(k int) (float64, error) {
	dir := freshDir(b.work, "contended-")
	defer os.RemoveAll(dir)
	index := filepath.Join(dir, "index")
	settle()
	var wg sync.WaitGroup
	docs := make([]int, k)
	errs := make([]error, k)
	start := time.Now()
	for i := range k {
		wg.Go(func() {
			journal := filepath.Join(dir, fmt.Sprintf("journal-%d.db", i))
			_, s, err := b.tguardIndex(index, journal, fmt.Sprintf("bench-%d", i), b.corpus.quarters[i])
			docs[i], errs[i] = s.Indexed, err
			if err == nil && s.Indexed != b.corpus.quarterN[i] {
				errs[i] = fmt.Errorf("process %d indexed %d documents of %d", i, s.Indexed, b.corpus.quarterN[i])
			}
		})
	}
	wg.Wait()
	wall := time.Since(start)
	total := 0
	for i := range k {
		if errs[i] != nil {
			return 0, errs[i]
		}
		total += docs[i]
	}
	return float64(total) / wall.Seconds(), nil
}
