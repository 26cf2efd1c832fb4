package main

import (
	"fmt"
	"path/filepath"
	"time"
)

// Job 3: two helper processes alternate on one lease. For each handoff the
// waiter is told to acquire; once it reports that its attempt found the
// lease held (it is then inside Acquire, waiting) and 2 ms more have
// passed, the holder is told to release. The handoff is the waiter's
// CLOCK_MONOTONIC right after Acquire returned minus the holder's right
// before it called Release. Then the roles swap.
type handoffResult struct {
	n          int
	ms         []float64
	p50, p99   float64
	max        float64
	releaseMS  []float64 // the holder's Release call alone
	releaseP50 float64
}

func (b *bench) jobHandoff() (*handoffResult, error) {
	dir := filepath.Join(b.work, "handoff")
	lease := 30 * time.Second
	a, err := startHold(dir, lease)
	if err != nil {
		return nil, err
	}
	defer a.stop()
	c, err := startHold(dir, lease)
	if err != nil {
		return nil, err
	}
	defer c.stop()
	const timeout = 10 * time.Second
	if err := a.send("acquire"); err != nil {
		return nil, err
	}
	if _, err := a.expect("granted", timeout); err != nil {
		return nil, err
	}
	holder, waiter := a, c
	res := &handoffResult{}
	for i := range b.cfg.handoffs + 20 {
		waiter.drain()
		if err := waiter.send("acquire"); err != nil {
			return nil, err
		}
		if _, err := waiter.expect("held", timeout); err != nil {
			return nil, err
		}
		time.Sleep(2 * time.Millisecond)
		if err := holder.send("release"); err != nil {
			return nil, err
		}
		rel, err := holder.expectAll("released", timeout)
		if err != nil {
			return nil, err
		}
		if len(rel) != 2 {
			return nil, fmt.Errorf("handoff %d: bad release report %v", i, rel)
		}
		got, err := waiter.expect("granted", timeout)
		if err != nil {
			return nil, err
		}
		if got < rel[0] {
			return nil, fmt.Errorf("handoff %d: granted before the release was called", i)
		}
		if i >= 20 { // the first 20 warm both processes up
			res.ms = append(res.ms, float64(got-rel[0])/1e6)
			res.releaseMS = append(res.releaseMS, float64(rel[1]-rel[0])/1e6)
		}
		holder, waiter = waiter, holder
	}
	if err := holder.send("release"); err != nil {
		return nil, err
	}
	if _, err := holder.expect("released", timeout); err != nil {
		return nil, err
	}
	res.n = len(res.ms)
	res.p50, res.p99, res.max = percentile(res.ms, 50), percentile(res.ms, 99), percentile(res.ms, 100)
	res.releaseP50 = percentile(res.releaseMS, 50)
	return res, nil
}
