package main

import (
	"os"
	"path/filepath"
)

// Job 6: peak resident memory of "tguard index" (default memory budget)
// over a quarter, a half (every second document), the whole corpus, and the
// whole corpus two and four times (the copies under other ids): the child's
// own high-water mark (VmHWM, see pollPeakRSS). Memory must not grow with
// the corpus: met when peak(whole) ≤ 1.10 × peak(half), a criterion fixed
// before the first run and kept. The half corpus does not fill the writer's
// memory budget, so that criterion also counts the budget being used; the
// growth per doubling past the whole corpus is shown beside it.
// The native example's peak over the same files is shown beside it, to
// tell what Tantivy itself holds from what tguard adds.
type rssResult struct {
	sizes       []rssSize // quarter, half, whole, twice, four times
	ratio       float64   // whole ÷ half, tguard index
	doubleRatio float64   // twice ÷ whole, tguard index
	quadRatio   float64   // four times ÷ twice, tguard index
}

type rssSize struct {
	name               string
	docs               int
	tguardMB, nativeMB float64
}

const rssGrowthLimit = 1.10

func (b *bench) jobRSS() (*rssResult, error) {
	res := &rssResult{}
	c := b.corpus
	for _, in := range []struct {
		name, path string
		docs       int
	}{{"quarter", c.quarters[0], c.quarterN[0]}, {"half", c.half, c.halfN}, {"whole", c.full, c.docs}, {"whole twice", c.double, 2 * c.docs}, {"whole four times", c.quad, 4 * c.docs}} {
		sz := rssSize{name: in.name, docs: in.docs}
		dir := freshDir(b.work, "rss-")
		r, _, err := b.tguardIndex(filepath.Join(dir, "index"), filepath.Join(dir, "journal.db"), "bench", in.path)
		_ = os.RemoveAll(dir)
		if err != nil {
			return nil, err
		}
		sz.tguardMB = float64(r.maxRSSKB) / 1024
		dir = freshDir(b.work, "rss-native-")
		r, err = runTimed(b.native, "--index", dir, in.path)
		_ = os.RemoveAll(dir)
		if err != nil {
			return nil, err
		}
		sz.nativeMB = float64(r.maxRSSKB) / 1024
		res.sizes = append(res.sizes, sz)
	}
	res.ratio = res.sizes[2].tguardMB / res.sizes[1].tguardMB
	res.doubleRatio = res.sizes[3].tguardMB / res.sizes[2].tguardMB
	res.quadRatio = res.sizes[4].tguardMB / res.sizes[3].tguardMB
	return res, nil
}
