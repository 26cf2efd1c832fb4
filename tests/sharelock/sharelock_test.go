package sharelock_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tguard/tguard/tests/verifier"
)

// TestShareLock runs every test on one share: starting one takes seconds
// and only one can run on a machine at a time.
func TestShareLock(t *testing.T) {
	e := newEnv(t)
	t.Run("racing", e.testRacing)
	t.Run("control", e.testControl)
	t.Run("dead_holder", e.testDeadHolder)
	t.Run("dead_holder_same_host", e.testDeadHolderSameHost)
	t.Run("live_holder", e.testLiveHolder)
	t.Run("skew", e.testSkew)
	t.Run("server_restart", e.testServerRestart)
}

// loopResult is what one contender loop did.
type loopResult struct {
	name     string
	procs    []*proc
	elapsed  time.Duration
	failures []string // processes that did not exit 0
}

// runLoops runs each base contender n times back to back, the loops
// concurrently, and returns what each did. Contender i of loop L is named
// "L.i" and, without tguard, reports fake token i.
func (e *env) runLoops(t *testing.T, addr string, bases []contender, n int) []loopResult {
	results := make([]loopResult, len(bases))
	var wg sync.WaitGroup
	for li, base := range bases {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res := &results[li]
			res.name = base.id
			begin := time.Now()
			for i := 1; i <= n; i++ {
				c := base
				c.id = fmt.Sprintf("%s.%03d", base.id, i)
				c.fakeToken = uint64(i)
				p := e.start(t, addr, c)
				res.procs = append(res.procs, p)
				code, timedOut := p.wait(procTimeout)
				if code != 0 || timedOut {
					what := fmt.Sprintf("exit %d", code)
					if timedOut {
						what = fmt.Sprintf("killed after %v", procTimeout)
					}
					res.failures = append(res.failures, fmt.Sprintf("%s (%s):\n%s", c.id, what, p.log()))
					if len(res.failures) >= 3 {
						break
					}
				}
			}
			res.elapsed = time.Since(begin)
		}()
	}
	wg.Wait()
	return results
}

func byID(results []loopResult) map[string]*proc {
	m := map[string]*proc{}
	for _, r := range results {
		for _, p := range r.procs {
			m[p.id] = p
		}
	}
	return m
}

func loops(a, b string, index string, lease time.Duration) []contender {
	var out []contender
	for _, l := range []struct{ id, host, mount string }{
		{"a1", hostA, a}, {"a2", hostA, a}, {"b1", hostB, b}, {"b2", hostB, b},
	} {
		out = append(out, contender{id: l.id, host: l.host, mount: l.mount, index: index,
			lease: lease, holdMin: 0, holdMax: 2 * time.Millisecond})
	}
	return out
}

// Four loops, two per mount (two hosts), each running "tguard lock exec
// --lease 2s -- contender" back to back: no two contenders ever hold at
// once, every cycle completes, and the tokens grow strictly.
func (e *env) testRacing(t *testing.T) {
	lease := envDuration(leaseEnv, 2*time.Second)
	e.race(t, "sharelock_racing", loops(e.share.MountA, e.share.MountB, "idx-racing", lease), envInt(cyclesEnv, 100))
}

// race runs each of bases n times back to back, the loops concurrently, all
// through tguard lock exec on one index, and checks what the verifier saw:
// no overlap, every cycle complete, tokens growing, each contender's token
// the one its tguard was granted. It logs the figure figName.
func (e *env) race(t *testing.T, figName string, bases []contender, n int) {
	index, lease := bases[0].index, bases[0].lease
	srv := verifier.Start(t)
	e.watchViolations(t, srv, index)
	begin := time.Now()
	results := e.runLoops(t, srv.Addr(), bases, n)
	elapsed := time.Since(begin)
	procs := byID(results)
	rep := srv.Report()

	var cycleTimes []time.Duration
	var loopSecs []string
	tokenMismatch := 0
	for _, r := range results {
		loopSecs = append(loopSecs, fmt.Sprintf("%s:%.1fs", r.name, r.elapsed.Seconds()))
		for _, p := range r.procs {
			cycleTimes = append(cycleTimes, p.ended.Sub(p.started))
		}
		for _, f := range r.failures {
			t.Errorf("contender %s", f)
		}
	}
	// The token each contender reported is the one its tguard was granted.
	for _, ev := range srv.Events() {
		if ev.Kind != "acquired" {
			continue
		}
		if _, tok, ok := procs[ev.ID].grant(); !ok || tok != ev.Token {
			tokenMismatch++
			if tokenMismatch <= 3 {
				t.Errorf("%s reported token %d; its tguard log says %d (found: %v)", ev.ID, ev.Token, tok, ok)
			}
		}
	}
	// Who won, and how often the lease went from one mount to the other.
	wins := map[byte]int{}
	crossings := 0
	var prev byte
	for _, ev := range srv.Events() {
		if ev.Kind != "acquired" {
			continue
		}
		m := ev.ID[0]
		wins[m]++
		if prev != 0 && prev != m {
			crossings++
		}
		prev = m
	}
	gaps := 0
	if len(rep.Tokens) > 0 {
		gaps = int(rep.Tokens[len(rep.Tokens)-1]-rep.Tokens[0]+1) - len(rep.Tokens)
	}
	ct := sortedDurations(cycleTimes)
	fig(t, figName, "lease", lease, "loops", len(bases), "cycles_per_loop", n, "cycles", rep.Cycles,
		"violations", len(rep.Violations), "seconds", fmt.Sprintf("%.1f", elapsed.Seconds()),
		"seconds_per_100_cycles_per_loop", fmt.Sprintf("%.1f", elapsed.Seconds()*100/float64(n)),
		"cycles_per_second", fmt.Sprintf("%.1f", float64(rep.Cycles)/elapsed.Seconds()),
		"loop_seconds", strings.Join(loopSecs, ","),
		"process_p50", ms(percentile(ct, 0.5)), "process_p99", ms(percentile(ct, 0.99)), "process_max", ms(percentile(ct, 1)),
		"wins_a", wins['a'], "wins_b", wins['b'], "mount_crossings", crossings, "token_gaps", gaps)

	e.explain(t, srv, index, procs)
	assert.Empty(t, rep.Violations, "the verifier saw two holders at once, a foreign release or a token that did not grow")
	assert.Equal(t, len(bases)*n, rep.Acquired, "acquisitions")
	assert.Equal(t, len(bases)*n, rep.Cycles, "completed cycles")
	assert.Empty(t, rep.Holders)
	for i := 1; i < len(rep.Tokens); i++ {
		if !assert.Greater(t, rep.Tokens[i], rep.Tokens[i-1], "token %d of %d", i, len(rep.Tokens)) {
			break
		}
	}
	assert.Zero(t, tokenMismatch)
	if t.Failed() {
		t.Logf("lease state:\n%s", e.leaseState(index))
	}
}

// The control: the same loops with the lock bypassed (the contender runs
// without tguard and reports a made-up token) must be caught by the
// verifier, or a clean run above proves nothing.
func (e *env) testControl(t *testing.T) {
	e.control(t, "sharelock_control", loops(e.share.MountA, e.share.MountB, "", 0), envInt(cyclesEnv, 100))
}

// control runs bases (contenders without an index: no tguard) like race
// and requires the verifier to catch them.
func (e *env) control(t *testing.T, figName string, bases []contender, n int) {
	srv := verifier.Start(t)
	begin := time.Now()
	results := e.runLoops(t, srv.Addr(), bases, n)
	elapsed := time.Since(begin)
	for _, r := range results {
		for _, f := range r.failures {
			t.Errorf("contender %s", f)
		}
	}
	rep := srv.Report()
	fig(t, figName, "loops", len(bases), "cycles", rep.Cycles, "violations", len(rep.Violations),
		"overlaps", rep.Overlaps, "bad_tokens", rep.BadTokens, "foreign_releases", rep.ForeignReleases,
		"seconds", fmt.Sprintf("%.1f", elapsed.Seconds()))
	assert.Equal(t, len(bases)*n, rep.Cycles)
	assert.NotEmpty(t, rep.Violations, "the verifier did not catch contenders running without the lock")
	assert.NotZero(t, rep.BadTokens, "the verifier saw no repeated token of contenders running without the lock")
	// 57 to 103 overlaps in 400 cycles were measured; with few cycles
	// (a quick run) there may be none.
	if n >= 50 {
		assert.NotZero(t, rep.Overlaps, "the verifier saw no overlap of contenders running without the lock")
	}
}

// acquiredBy is an Await condition: id has reported "acquired".
func acquiredBy(id string) func([]verifier.Event) bool {
	return func(ev []verifier.Event) bool {
		for _, e := range ev {
			if e.Kind == "acquired" && e.ID == id {
				return true
			}
		}
		return false
	}
}

func tokenOf(srv *verifier.Server, id string) uint64 {
	for _, e := range srv.Events() {
		if e.Kind == "acquired" && e.ID == id {
			return e.Token
		}
	}
	return 0
}

// deadRound is one round of a dead-holder test.
type deadRound struct {
	before   bool // the waiters were started before the kill
	killedAt time.Time
	// first is the waiter that got the lease first; firstAt when the
	// verifier heard of it, grantAt when its tguard says it was granted.
	first            *proc
	firstAt, grantAt time.Time
	waitersStarted   time.Time
	holderToken      uint64
	attempts         int // waiters that tried to end the dead holder's generation
	holder           *proc
	waiters          []*proc
}

// addTo adds the round's processes to m, by contender id.
func (r deadRound) addTo(m map[string]*proc) {
	m[r.holder.id] = r.holder
	for _, w := range r.waiters {
		m[w.id] = w
	}
}

// deadHolderRound starts a holder on mount A as tguard-host-a (its command
// reports "acquired" and then sleeps), lets it renew, kills its process
// group with SIGKILL, and lets waiters race for the lease. In odd rounds the
// waiters start after the kill; in even rounds 300 ms before it, so that
// they watch the holder renew and then stop renewing. It checks that every
// waiter gets the lease in turn, without violations, and returns the round's
// times for the caller's checks.
//
// The holder's tguard runs with TGUARD_CLOCK_SKEW=holderSkew (none if empty).
func (e *env) deadHolderRound(t *testing.T, srv *verifier.Server, index string, round int, holderSkew string, waiters []contender) deadRound {
	t.Helper()
	failedBefore := t.Failed()
	lease := time.Second
	holder := e.start(t, srv.Addr(), contender{id: fmt.Sprintf("holder.r%d", round), host: hostA,
		mount: e.share.MountA, index: index, lease: lease, holdMin: time.Minute, holdMax: time.Minute, skew: holderSkew})
	if !srv.Await(30*time.Second, acquiredBy(holder.id)) {
		t.Fatalf("holder %s did not report acquired within 30 s:\n%s", holder.id, holder.log())
	}
	r := deadRound{before: round%2 == 0, holderToken: tokenOf(srv, holder.id)}
	// Let the holder renew once or twice (renewal every lease/3).
	time.Sleep(400*time.Millisecond + rand.N(500*time.Millisecond))

	var ws []*proc
	startWaiters := func() {
		r.waitersStarted = time.Now()
		for _, w := range waiters {
			w.id = fmt.Sprintf("%s.r%d", w.id, round)
			w.index, w.lease, w.wait = index, lease, 30*time.Second
			w.holdMax = 2 * time.Millisecond
			ws = append(ws, e.start(t, srv.Addr(), w))
		}
	}
	if r.before {
		startWaiters()
		time.Sleep(300 * time.Millisecond)
	}
	r.killedAt = time.Now()
	holder.kill()
	// The lock counts a zombie as dead (it can never write again), so a
	// waiter on this host may take over before the harness reaps the
	// holder: the release is recorded once every process of the holder's
	// group is a zombie or gone, not when Wait returns.
	require.True(t, groupDead(holder.cmd.Process.Pid, 10*time.Second), "round %d: the killed holder's group did not die", round)
	// The holder cannot say it is gone; the test says it, in the true
	// order: after its death, before any waiter may legitimately hold.
	assert.Equal(t, fmt.Sprintf("released %s %d", holder.id, r.holderToken),
		srv.Record(fmt.Sprintf("released %s %d", holder.id, r.holderToken)))
	if !r.before {
		startWaiters()
	}
	for _, w := range ws {
		code, timedOut := w.wait(procTimeout)
		if !assert.True(t, code == 0 && !timedOut, "round %d: waiter %s: exit %d (timed out: %v)", round, w.id, code, timedOut) {
			t.Logf("log of %s:\n%s", w.id, w.log())
		}
	}
	<-holder.done
	assert.Equal(t, -1, holder.exitCode(), "the holder was killed by a signal")
	r.holder, r.waiters = holder, ws

	// The first waiter to report after the holder's (reported) death.
	byID := map[string]*proc{}
	for _, w := range ws {
		byID[w.id] = w
	}
	for _, ev := range srv.Events() {
		if ev.Kind == "acquired" && byID[ev.ID] != nil {
			r.first, r.firstAt = byID[ev.ID], ev.At
			break
		}
	}
	if !assert.NotNil(t, r.first, "round %d: no waiter reported acquired", round) {
		return r
	}
	var ok bool
	var tok uint64
	r.grantAt, tok, ok = r.first.grant()
	assert.True(t, ok, "round %d: no grant in the log of %s", round, r.first.id)
	assert.Equal(t, r.holderToken+1, tok, "round %d: the first waiter's token follows the dead holder's", round)
	// Exactly one waiter was granted the token after the dead holder's
	// (the verifier would also see a second one, as an overlap or a token
	// that did not grow). Several may try to end the dead holder's
	// generation at the same moment; only one mkdir wins, and only the
	// winner logs "ended". The grant that follows goes to whichever waiter
	// is first to see the generation ended.
	for _, w := range ws {
		if w.tookOver() {
			r.attempts++
		}
		if _, tok, ok := w.grant(); ok && tok == r.holderToken+1 && w != r.first {
			t.Errorf("round %d: %s was granted token %d too, the first waiter's", round, w.id, tok)
		}
	}
	assert.Equal(t, 1, r.attempts, "round %d: exactly one waiter ends the dead holder's lease", round)
	if t.Failed() && !failedBefore {
		for _, w := range ws {
			t.Logf("log of %s:\n%s", w.id, w.log())
		}
	}
	return r
}

func (e *env) finishDeadHolder(t *testing.T, srv *verifier.Server, index string, rounds, perRound int, procs map[string]*proc) {
	t.Helper()
	rep := srv.Report()
	e.explain(t, srv, index, procs)
	assert.Empty(t, rep.Violations)
	assert.Equal(t, rounds*(perRound+1), rep.Acquired, "acquisitions: a holder and its waiters per round")
	assert.Equal(t, rounds*(perRound+1), rep.Cycles)
	assert.Empty(t, rep.Holders)
	for i := 1; i < len(rep.Tokens); i++ {
		assert.Greater(t, rep.Tokens[i], rep.Tokens[i-1])
	}
	if t.Failed() {
		t.Logf("lease state:\n%s", e.leaseState(index))
	}
}

// A holder on host A is killed with SIGKILL; four waiters on other hosts
// (two through each mount) race for its lease. Exactly one ends it, not
// before the holder's lease could have run out; the others follow in turn.
//
// The waiters through mount A run as hosts of their own (tguard-host-a2,
// -a3), not as tguard-host-a: a waiter on the holder's host proves it dead
// and takes over at once, which dead_holder_same_host tests.
func (e *env) testDeadHolder(t *testing.T) {
	rounds := envInt(roundsEnv, 5)
	const index = "idx-dead"
	lease := time.Second
	margin, renew := lease/10, lease/3
	srv := verifier.Start(t)
	e.watchViolations(t, srv, index)
	waiters := []contender{
		{id: "a2", host: "tguard-host-a2", mount: e.share.MountA},
		{id: "a3", host: "tguard-host-a3", mount: e.share.MountA},
		{id: "b1", host: hostB, mount: e.share.MountB},
		{id: "b2", host: "tguard-host-b2", mount: e.share.MountB},
	}
	var after, before, afterWait []time.Duration
	var attempts []string
	procs := map[string]*proc{}
	for round := 1; round <= rounds; round++ {
		r := e.deadHolderRound(t, srv, index, round, "", waiters)
		r.addTo(procs)
		attempts = append(attempts, fmt.Sprint(r.attempts))
		if r.first == nil || r.grantAt.IsZero() {
			continue
		}
		takeover := r.grantAt.Sub(r.killedAt)
		t.Logf("round %d (waiters started %s the kill): %s granted token %d %v after the kill (reported after %v)",
			round, map[bool]string{true: "before", false: "after"}[r.before], r.first.id, r.holderToken+1,
			takeover.Round(time.Millisecond), r.firstAt.Sub(r.killedAt).Round(time.Millisecond))
		// The holder renewed at most a renewal interval before the kill;
		// no waiter on another host may end its lease before lease −
		// renew has passed since (the log's time is truncated to 1 ms).
		assert.GreaterOrEqual(t, takeover, lease-renew-50*time.Millisecond,
			"round %d: %s took over %v after the kill, before the dead holder's lease could have run out", round, r.first.id, takeover)
		if r.before {
			before = append(before, takeover)
		} else {
			after = append(after, takeover)
			// Started after the kill, a waiter must have seen the same
			// state for lease + margin on its own clock.
			w := r.grantAt.Sub(r.waitersStarted)
			afterWait = append(afterWait, w)
			assert.GreaterOrEqual(t, w, lease+margin-2*time.Millisecond,
				"round %d: %s took over %v after it started, less than lease + margin", round, r.first.id, w)
		}
	}
	all := sortedDurations(append(append([]time.Duration(nil), after...), before...))
	a, b := sortedDurations(after), sortedDurations(before)
	fig(t, "sharelock_dead_holder_takeover", "rounds", rounds, "lease", lease, "waiters", len(waiters),
		"p50", ms(percentile(all, 0.5)), "p99", ms(percentile(all, 0.99)), "min", ms(percentile(all, 0)), "max", ms(percentile(all, 1)),
		"waiters_after_kill_p50", ms(percentile(a, 0.5)), "waiters_after_kill_max", ms(percentile(a, 1)),
		"waiters_before_kill_p50", ms(percentile(b, 0.5)), "waiters_before_kill_min", ms(percentile(b, 0)), "waiters_before_kill_max", ms(percentile(b, 1)),
		"after_kill_wait_from_start_min", ms(percentile(sortedDurations(afterWait), 0)),
		"takeover_attempts_per_round", strings.Join(attempts, ","))
	e.finishDeadHolder(t, srv, index, rounds, len(waiters), procs)
}

// A holder on host A is killed; a waiter on host A proves it dead (its PID
// is gone) and ends its lease at once, long before a waiter on host B could
// by expiry. The next grant goes to whichever waiter is first to see the
// lease ended: the one on host A, or sometimes the one on host B.
func (e *env) testDeadHolderSameHost(t *testing.T) {
	rounds := envInt(roundsEnv, 5)
	const index = "idx-dead-same-host"
	lease := time.Second
	srv := verifier.Start(t)
	e.watchViolations(t, srv, index)
	waiters := []contender{
		{id: "a1", host: hostA, mount: e.share.MountA},
		{id: "b1", host: hostB, mount: e.share.MountB},
	}
	var takeovers []time.Duration
	firstOther := 0
	procs := map[string]*proc{}
	for round := 1; round <= rounds; round++ {
		r := e.deadHolderRound(t, srv, index, round, "", waiters)
		r.addTo(procs)
		if r.first == nil || r.grantAt.IsZero() {
			continue
		}
		takeover := r.grantAt.Sub(r.killedAt)
		takeovers = append(takeovers, takeover)
		t.Logf("round %d (waiters started %s the kill): %s granted token %d %v after the kill",
			round, map[bool]string{true: "before", false: "after"}[r.before], r.first.id, r.holderToken+1, takeover.Round(time.Millisecond))
		// The waiter on the holder's host ends the dead holder's
		// generation; the grant that follows is open to every waiter that
		// reads the generation ended, so the one on host B may win it.
		for _, w := range r.waiters {
			proved := strings.Contains(w.log(), `msg="lock: ended the lease of a dead holder"`)
			if w.host == hostA {
				assert.True(t, proved, "round %d: %s on the holder's host did not prove it dead:\n%s", round, w.id, w.log())
			} else {
				assert.False(t, w.tookOver(), "round %d: %s on another host ended the holder's lease:\n%s", round, w.id, w.log())
			}
		}
		if r.first.host != hostA {
			firstOther++
		}
		if !r.before {
			takeover = r.grantAt.Sub(r.waitersStarted)
		}
		// Faster than any takeover by expiry could be (lease − renewal
		// interval after the kill): the holder was proven dead.
		assert.Less(t, takeover, lease-lease/3, "round %d: a dead holder on this host is taken over at once", round)
	}
	d := sortedDurations(takeovers)
	fig(t, "sharelock_dead_holder_same_host_takeover", "rounds", rounds, "lease", lease,
		"p50", ms(percentile(d, 0.5)), "p99", ms(percentile(d, 0.99)), "max", ms(percentile(d, 1)),
		"rounds_first_granted_to_host_b", firstOther)
	e.finishDeadHolder(t, srv, index, rounds, len(waiters), procs)
}

// A live holder on host A, renewing a 1 s lease for 5 s, is never taken
// over: waiters with --wait 3s on host B (mount B), on a third host through
// mount A and on host A itself all exit 75 naming the holder, and the
// holder finishes without losing its lease.
func (e *env) testLiveHolder(t *testing.T) {
	const index = "idx-live"
	lease, hold, wait := time.Second, 5*time.Second, 3*time.Second
	srv := verifier.Start(t)
	e.watchViolations(t, srv, index)
	holder := e.start(t, srv.Addr(), contender{id: "holder", host: hostA, mount: e.share.MountA,
		index: index, lease: lease, holdMin: hold, holdMax: hold})
	require.True(t, srv.Await(30*time.Second, acquiredBy(holder.id)), "holder did not acquire:\n%s", holder.log())
	token := tokenOf(srv, holder.id)
	var ws []*proc
	for _, w := range []contender{
		{id: "b1", host: hostB, mount: e.share.MountB},
		{id: "c1", host: "tguard-host-c", mount: e.share.MountA},
		{id: "a1", host: hostA, mount: e.share.MountA},
	} {
		w.index, w.lease, w.wait = index, lease, wait
		ws = append(ws, e.start(t, srv.Addr(), w))
	}
	pid := holder.cmd.Process.Pid
	var waited []string
	for _, w := range ws {
		code, timedOut := w.wait(procTimeout)
		out := w.log()
		ran := w.ended.Sub(w.started)
		waited = append(waited, fmt.Sprintf("%s:%.2fs", w.id, ran.Seconds()))
		assert.False(t, timedOut)
		assert.Equal(t, exitNotAcquired, code, "waiter %s must give up with exit 75:\n%s", w.id, out)
		assert.Contains(t, out, fmt.Sprintf("not acquired within %v", wait), w.id)
		assert.Contains(t, out, fmt.Sprintf("%s_%d (host %s, pid %d, token %d", hostA, pid, hostA, pid, token),
			"waiter %s must name the holder", w.id)
		assert.GreaterOrEqual(t, ran, wait, w.id)
		assert.Less(t, ran, wait+3*time.Second, w.id)
	}
	code, _ := holder.wait(procTimeout)
	assert.Equal(t, 0, code, "the holder must keep its lease (76: lost):\n%s", holder.log())
	rep := srv.Report()
	procs := map[string]*proc{holder.id: holder}
	for _, w := range ws {
		procs[w.id] = w
	}
	e.explain(t, srv, index, procs)
	assert.Empty(t, rep.Violations)
	assert.Equal(t, 1, rep.Acquired, "only the holder acquired")
	assert.Equal(t, 1, rep.Cycles)
	held := holder.ended.Sub(holder.started)
	assert.GreaterOrEqual(t, held, hold)
	fig(t, "sharelock_live_holder", "lease", lease, "hold", hold, "wait", wait, "waiters", strings.Join(waited, ","),
		"holder_seconds", fmt.Sprintf("%.2f", held.Seconds()))
	if t.Failed() {
		t.Logf("lease state:\n%s", e.leaseState(index))
	}
}
