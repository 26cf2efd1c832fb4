package main

import (
	"fmt"
	"path/filepath"
	"syscall"
	"time"
)

// Job 4: same-host failover. A helper holds the lease (30 s, so waiting
// for it to expire would show as more than 30 s); a second helper waits in
// Acquire (it has reported the lease held, and 5 ms more have passed);
// the holder is killed with SIGKILL and reaped at once, as a supervisor
// would. The failover is the waiter's CLOCK_MONOTONIC right after Acquire
// returned minus this process's right before kill(2).
type failoverResult struct {
	trials      int
	ms          []float64
	median, max float64
}

func (b *bench) jobFailover() (*failoverResult, error) {
	res := &failoverResult{}
	const lease = 30 * time.Second
	for i := range b.cfg.trials {
		d, err := b.failoverTrial(filepath.Join(b.work, fmt.Sprintf("failover-%d", i)), lease)
		if err != nil {
			return nil, fmt.Errorf("failover trial %d: %w", i+1, err)
		}
		res.ms = append(res.ms, d)
	}
	res.trials = len(res.ms)
	res.median, res.max = median(res.ms), percentile(res.ms, 100)
	return res, nil
}

func (b *bench) failoverTrial(dir string, lease time.Duration) (float64, error) {
	holder, err := startHold(dir, lease)
	if err != nil {
		return 0, err
	}
	killed := false
	defer func() {
		if !killed {
			holder.stop()
		}
	}()
	if err := holder.send("acquire"); err != nil {
		return 0, err
	}
	if _, err := holder.expect("granted", 10*time.Second); err != nil {
		return 0, err
	}
	waiter, err := startHold(dir, lease)
	if err != nil {
		return 0, err
	}
	defer waiter.stop()
	if err := waiter.send("acquire"); err != nil {
		return 0, err
	}
	if _, err := waiter.expect("held", 10*time.Second); err != nil {
		return 0, err
	}
	time.Sleep(5 * time.Millisecond)
	t0 := monoNS()
	if err := holder.Process().Signal(syscall.SIGKILL); err != nil {
		return 0, err
	}
	killed = true
	go func() { _ = holder.Wait(0) }()
	got, err := waiter.expect("granted", lease+lease/2)
	if err != nil {
		return 0, err
	}
	if err := waiter.send("release"); err != nil {
		return 0, err
	}
	if _, err := waiter.expect("released", 10*time.Second); err != nil {
		return 0, err
	}
	return float64(got-t0) / 1e6, nil
}
