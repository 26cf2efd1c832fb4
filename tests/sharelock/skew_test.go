package sharelock_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tguard/tguard/tests/verifier"
)

// skewSlack is what a takeover may take beyond lease + margin + one poll on
// this share: the waiter's own start (a process in a new UTS namespace) and
// the mkdir and listing round trips through smbnetfs that end the old
// generation and grant the next.
const skewSlack = 400 * time.Millisecond

// Instances whose wall clocks are an hour apart (TGUARD_CLOCK_SKEW −1h, 0,
// +1h) share one lease across the two mounts. The protocol never compares
// wall clocks, so the skew must change nothing:
//
//   - live: a holder renewing a 1 s lease for 4 s is never taken over by
//     waiters an hour ahead or behind it (they exit 75 naming it);
//   - dead: a holder killed with SIGKILL on one host is taken over from
//     another host within lease + margin + one poll (plus skewSlack), and
//     not before its lease could have run out.
func (e *env) testSkew(t *testing.T) {
	const index = "idx-skew"
	lease := time.Second
	margin, renew, poll := lease/10, lease/3, min(time.Second, lease/8)
	srv := verifier.Start(t)
	e.watchViolations(t, srv, index)
	procs := map[string]*proc{}

	// Live holders: one at 0 with waiters at ±1h, one at −1h with waiters
	// at 0 and +1h.
	for i, skews := range [][3]string{{"0s", "-1h", "+1h"}, {"-1h", "0s", "+1h"}} {
		hold, wait := 4*time.Second, 2500*time.Millisecond
		holder := e.start(t, srv.Addr(), contender{id: fmt.Sprintf("live%d.holder", i), host: hostA, mount: e.share.MountA,
			index: index, lease: lease, holdMin: hold, holdMax: hold, skew: skews[0]})
		procs[holder.id] = holder
		require.True(t, srv.Await(30*time.Second, acquiredBy(holder.id)), "holder did not acquire:\n%s", holder.log())
		var ws []*proc
		for k, w := range []contender{
			{id: fmt.Sprintf("live%d.b1", i), host: hostB, mount: e.share.MountB},
			{id: fmt.Sprintf("live%d.c1", i), host: "tguard-host-c", mount: e.share.MountA},
		} {
			w.index, w.lease, w.wait, w.skew = index, lease, wait, skews[k+1]
			p := e.start(t, srv.Addr(), w)
			procs[p.id] = p
			ws = append(ws, p)
		}
		for _, w := range ws {
			code, timedOut := w.wait(procTimeout)
			assert.False(t, timedOut, w.id)
			assert.Equal(t, exitNotAcquired, code, "waiter %s (skew %s) against a live holder (skew %s) must exit 75:\n%s",
				w.id, w.skew, holder.skew, w.log())
			assert.False(t, w.tookOver(), "waiter %s ended a live lease:\n%s", w.id, w.log())
		}
		code, _ := holder.wait(procTimeout)
		assert.Equal(t, 0, code, "the live holder (skew %s) must keep its lease:\n%s", holder.skew, holder.log())
		fig(t, "sharelock_skew_live", "holder_skew", skews[0], "waiter_skews", skews[1]+","+skews[2],
			"lease", lease, "hold", hold, "waiter_exits", fmt.Sprintf("%d,%d", ws[0].exitCode(), ws[1].exitCode()), "holder_exit", code)
	}
	liveAcquired := srv.Report().Acquired
	assert.Equal(t, 2, liveAcquired, "only the two live holders acquired")

	// Dead holders, alternately an hour behind and ahead.
	rounds := envInt(roundsEnv, 5)
	bound := lease + margin + poll + skewSlack
	var takeovers []time.Duration
	for round := 1; round <= rounds; round++ {
		holderSkew, other := "-1h", "+1h"
		if round%2 == 0 {
			holderSkew, other = "+1h", "-1h"
		}
		waiters := []contender{
			{id: "dead.b1", host: hostB, mount: e.share.MountB, skew: other},
			{id: "dead.c1", host: "tguard-host-c", mount: e.share.MountA, skew: "0s"},
		}
		r := e.deadHolderRound(t, srv, index, round, holderSkew, waiters)
		r.addTo(procs)
		if r.first == nil || r.grantAt.IsZero() {
			continue
		}
		// Waiters started before the kill saw the holder's last renewal
		// within a poll of it; those started after it count from their
		// own first reading.
		from := r.killedAt
		if !r.before {
			from = r.waitersStarted
		}
		took := r.grantAt.Sub(from)
		takeovers = append(takeovers, took)
		t.Logf("round %d: holder skew %s, %s (skew %s) granted %v after the %s",
			round, holderSkew, r.first.id, r.first.skew, took.Round(time.Millisecond),
			map[bool]string{true: "kill", false: "waiters started"}[r.before])
		assert.GreaterOrEqual(t, r.grantAt.Sub(r.killedAt), lease-renew-50*time.Millisecond,
			"round %d: taken over before the dead holder's lease could have run out", round)
		assert.LessOrEqual(t, took, bound, "round %d: a dead holder must be taken over within lease + margin + poll (+%v)", round, skewSlack)
	}
	d := sortedDurations(takeovers)
	fig(t, "sharelock_skew_dead_holder", "rounds", rounds, "lease", lease, "skews", "holder±1h,waiters∓1h,0",
		"bound", ms(bound), "p50", ms(percentile(d, 0.5)), "p99", ms(percentile(d, 0.99)), "max", ms(percentile(d, 1)))

	rep := srv.Report()
	e.explain(t, srv, index, procs)
	assert.Empty(t, rep.Violations)
	assert.Equal(t, liveAcquired+rounds*3, rep.Acquired, "every dead-holder round: the holder and both waiters")
	for i := 1; i < len(rep.Tokens); i++ {
		assert.Greater(t, rep.Tokens[i], rep.Tokens[i-1])
	}
	if t.Failed() {
		t.Logf("lease state:\n%s", e.leaseState(index))
	}
}
