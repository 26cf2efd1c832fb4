package sharelock_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tguard/tguard/tests/verifier"
)

// lostLine matches tguard's log line of a lost lease.
var lostLine = regexp.MustCompile(`(?m)^time=(\S+) level=WARN msg="lock: lease lost"`)

// notRenewedLine matches lock exec's notice that it stopped its command
// because renewals kept failing and the deadline was near (it comes before
// the lease is lost, and has no time of its own).
var notRenewedLine = regexp.MustCompile(`(?m)^tguard: lease not renewed and its deadline is in `)

// lostAt returns when tguard reported that it lost its lease: the time of
// the library's log line, or, when lock exec stopped its command before
// the deadline and exited, the moment the process had exited by (a bound
// later than the report itself).
func (p *proc) lostAt() (time.Time, bool) {
	if m := lostLine.FindStringSubmatch(p.log()); m != nil {
		at, err := time.Parse(time.RFC3339Nano, m[1])
		return at, err == nil
	}
	if notRenewedLine.MatchString(p.log()) {
		return p.ended, true
	}
	return time.Time{}, false
}

// The file server dies while a holder renews: smbd is killed with SIGKILL
// (every connection with it) and started again only after the holder's
// lease has run out. The holder cannot renew, so it must report the lease
// lost before its lease runs out on its own clock, stop its command and
// exit 76; after the restart, holders through both mounts get the lease in
// turn (the dead generation is taken over by expiry), with growing tokens.
func (e *env) testServerRestart(t *testing.T) {
	const index = "idx-server-restart"
	lease := 3 * time.Second
	srv := verifier.Start(t)
	e.watchViolations(t, srv, index)
	procs := map[string]*proc{}

	holder := e.start(t, srv.Addr(), contender{id: "holder", host: hostA, mount: e.share.MountA,
		index: index, lease: lease, holdMin: time.Minute, holdMax: time.Minute})
	procs[holder.id] = holder
	require.True(t, srv.Await(30*time.Second, acquiredBy(holder.id)), "holder did not acquire:\n%s", holder.log())
	token := tokenOf(srv, holder.id)
	time.Sleep(lease / 2) // a renewal or two

	killedAt := time.Now()
	require.NoError(t, e.share.KillServer())
	code, timedOut := holder.wait(lease + 15*time.Second)
	exitedAfter := holder.ended.Sub(killedAt)
	assert.False(t, timedOut, "the holder must exit once its lease is lost:\n%s", holder.log())
	assert.Equal(t, exitLeaseLost, code, "the holder must exit 76 (lease lost):\n%s", holder.log())
	lost, ok := holder.lostAt()
	require.True(t, ok, "the holder never logged the lease lost:\n%s", holder.log())
	lostAfter := lost.Sub(killedAt)
	// Its last renewal was before the kill, so its lease ran out less than
	// a lease after the kill (the log's time is truncated to 1 ms); lock
	// exec stops its command and exits before that.
	assert.Less(t, lostAfter, lease+time.Millisecond, "the lease must be reported lost before it runs out:\n%s", holder.log())
	// The holder's command never said "released"; the test says it, after
	// the holder is gone and before anyone else may hold.
	srv.Record(fmt.Sprintf("released %s %d", holder.id, token))

	// Keep the server down past the lease, then start it again.
	if rest := lease + time.Second - time.Since(killedAt); rest > 0 {
		time.Sleep(rest)
	}
	restartedAt := time.Now()
	require.NoError(t, e.share.RestartServer())
	serverDown := restartedAt.Sub(killedAt)

	var resumed []string
	for _, c := range []contender{
		{id: "after.b1", host: hostB, mount: e.share.MountB},
		{id: "after.a1", host: hostA, mount: e.share.MountA},
	} {
		c.index, c.lease, c.wait, c.holdMax = index, lease, 30*time.Second, 2*time.Millisecond
		p := e.start(t, srv.Addr(), c)
		procs[p.id] = p
		code, timedOut := p.wait(procTimeout)
		assert.False(t, timedOut, p.id)
		if !assert.Equal(t, 0, code, "%s through its mount after the restart:\n%s", p.id, p.log()) {
			continue
		}
		at, tok, ok := p.grant()
		if assert.True(t, ok, p.id) {
			assert.Greater(t, tok, token, "%s: tokens grow across the restart", p.id)
			resumed = append(resumed, fmt.Sprintf("%s:%s", p.id, ms(at.Sub(restartedAt))))
		}
	}
	rep := srv.Report()
	e.explain(t, srv, index, procs)
	assert.Empty(t, rep.Violations)
	assert.Equal(t, 3, rep.Acquired)
	fig(t, "sharelock_server_restart", "lease", lease, "lost_reported_after_kill", ms(lostAfter),
		"holder_exited_after_kill", ms(exitedAfter), "holder_exit", code, "server_down", ms(serverDown),
		"granted_after_restart", strings.Join(resumed, ","))
	if t.Failed() {
		t.Logf("lease state:\n%s", e.leaseState(index))
	}
}
