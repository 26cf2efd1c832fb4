package etcd_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tguard/tguard/tests/prereq"
	"github.com/tguard/tguard/tests/testbin"
)

func indexToken(t *testing.T, ix string) uint64 {
	t.Helper()
	code, out, errs := tguard(t, nil, "stats", "--index", ix, "--json")
	require.Equal(t, 0, code, errs)
	var s struct{ Token uint64 }
	require.NoError(t, json.Unmarshal([]byte(out), &s))
	return s.Token
}

func hits(t *testing.T, ix, word string) int {
	t.Helper()
	code, out, errs := tguard(t, nil, "search", "--index", ix, "--json", word)
	require.Equal(t, 0, code, errs)
	var r struct{ Total int }
	require.NoError(t, json.Unmarshal([]byte(out), &r))
	return r.Total
}

// A writer stopped (SIGSTOP) right before its commit, past its TTL: the
// cluster ends its session, a successor is granted a higher token and
// commits; the writer wakes, and its commit is refused (exit 76) by its
// own deadline and by the fence in Rust. Its documents stay journaled and
// a later flush applies them.
func TestZombieFenced(t *testing.T) {
	c := startCluster(t, 1)
	root := t.TempDir()
	ix := filepath.Join(root, "index")
	env := []string{"TGUARD_ETCD_ENDPOINTS=" + c.endpoints()}
	zwords := testbin.Corpus(t, filepath.Join(root, "z"), "zombie", 3)
	swords := testbin.Corpus(t, filepath.Join(root, "s"), "successor", 3)
	zj, sj := filepath.Join(root, "z.db"), filepath.Join(root, "s.db")

	z := tguardBin.Command("index", "--index", ix, "--backend", "etcd", "--owner", "Z", "--journal", zj,
		"--lease", "2s", filepath.Join(root, "z")).With(env...).With("TGUARD_FAILPOINT=before-commit:stop").Start(t)
	z.WaitStopped(t)
	stopped := time.Now()
	// Tantivy's own writer lock is a kernel lock of this host; removing
	// its file plays a successor on another host, where it does not reach.
	require.NoError(t, os.Remove(filepath.Join(ix, ".tantivy-writer.lock")))

	code, out, errs := tguard(t, env, "index", "--index", ix, "--backend", "etcd", "--owner", "S", "--journal", sj,
		"--lease", "2s", "--json", filepath.Join(root, "s"))
	require.Equal(t, 0, code, errs)
	var sum struct{ Token uint64 }
	require.NoError(t, json.Unmarshal([]byte(out), &sum))
	t.Logf("FIGURE etcd_zombie successor_granted_after_ms=%d successor_token=%d",
		time.Since(stopped).Milliseconds(), sum.Token)

	zcode := z.Resume(t, 2*time.Minute)
	require.NotEqual(t, 0, zcode, "the zombie must fail: %s", z.Stderr())
	assert.Equal(t, 76, zcode, "lease lost or fenced: %s", z.Stderr())

	assert.Equal(t, sum.Token, indexToken(t, ix), "the successor's commit stays")
	for _, w := range swords {
		assert.Equal(t, 1, hits(t, ix, w), w)
	}
	for _, w := range zwords {
		assert.Equal(t, 0, hits(t, ix, w), "the zombie committed %s", w)
	}
	// Its documents were kept in its journal.
	code, _, errs = tguard(t, env, "flush", "--index", ix, "--backend", "etcd", "--owner", "Z", "--journal", zj)
	require.Equal(t, 0, code, errs)
	for _, w := range zwords {
		assert.Equal(t, 1, hits(t, ix, w), w)
	}
}

// Switching an index between the file backend and etcd, both ways, never
// hands out a token at or below the index's last committed one: etcd's
// grant takes the index's token as its floor, and so does the file's.
func TestTokensAcrossBackends(t *testing.T) {
	c := startCluster(t, 1)
	root := t.TempDir()
	ix := filepath.Join(root, "index")
	j := filepath.Join(root, "j.db")
	env := []string{"TGUARD_ETCD_ENDPOINTS=" + c.endpoints()}
	var prev uint64
	for i, backend := range []string{"file", "file", "etcd", "file", "file", "file", "etcd", "etcd", "file"} {
		docs := filepath.Join(root, "d"+strconv.Itoa(i))
		testbin.Corpus(t, docs, fmt.Sprintf("run%d", i), 1)
		code, _, errs := tguard(t, env, "index", "--index", ix, "--backend", backend, "--journal", j, "--lease", "2s", docs)
		require.Equal(t, 0, code, "run %d (%s): %s", i, backend, errs)
		tok := indexToken(t, ix)
		require.Greater(t, tok, prev, "run %d (%s): the token must grow", i, backend)
		prev = tok
	}
	code, out, errs := tguard(t, env, "lock", "status", "--index", ix, "--backend", "etcd", "--json")
	require.Equal(t, 0, code, errs)
	var st struct {
		Held  bool
		Token uint64
	}
	require.NoError(t, json.Unmarshal([]byte(out), &st))
	assert.False(t, st.Held)
	assert.Less(t, st.Token, prev, "etcd's last token is behind the file backend's: the floor carries it")
}

// tguard lock status shows the etcd holder; lock break refuses a live
// holder and --force revokes its session, which the holder learns at its
// next keep-alive: its lease ends (Done) long before its TTL would have.
func TestStatusAndBreak(t *testing.T) {
	c := startCluster(t, 1)
	const lease = 6 * time.Second
	h := startHelper(t, "holder", holderEnv(c, "status", lease)...)
	g := h.waitLine(t, "granted", 30*time.Second)
	args := []string{"--index", t.TempDir(), "--backend", "etcd", "--etcd-endpoints", c.endpoints(), "--etcd-key", "status"}

	code, out, errs := tguard(t, nil, append([]string{"lock", "status", "--json"}, args...)...)
	require.Equal(t, 0, code, errs)
	var st struct {
		Held        bool   `json:"held"`
		State       string `json:"state"`
		Owner       string `json:"owner"`
		PID         int    `json:"pid"`
		Token       uint64 `json:"token"`
		ExpiresInMS int64  `json:"expires_in_ms"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &st))
	assert.True(t, st.Held)
	assert.Equal(t, "held", st.State)
	assert.Equal(t, fmt.Sprintf("holder-%d", h.Pid()), st.Owner)
	assert.Equal(t, h.Pid(), st.PID)
	assert.Equal(t, g.n, st.Token)
	assert.Positive(t, st.ExpiresInMS)
	code, out, _ = tguard(t, nil, append([]string{"lock", "status"}, args...)...)
	require.Equal(t, 0, code)
	assert.Contains(t, out, fmt.Sprintf("held by holder-%d", h.Pid()))

	code, _, errs = tguard(t, nil, append([]string{"lock", "break"}, args...)...)
	assert.Equal(t, 1, code, "a live holder is not provably dead: %s", errs)
	assert.Contains(t, errs, "not provably dead")

	broken := time.Now()
	code, _, errs = tguard(t, nil, append([]string{"lock", "break", "--force"}, args...)...)
	require.Equal(t, 0, code, errs)
	lost := h.waitLine(t, "lost", lease)
	t.Logf("FIGURE etcd_break lease=%v holder_lost_after_ms=%d", lease, lost.at.Sub(broken).Milliseconds())
	assert.Less(t, lost.at.Sub(broken), lease/2, "the holder must learn of the break at its next keep-alive")

	code, out, errs = tguard(t, nil, append([]string{"lock", "status", "--json"}, args...)...)
	require.Equal(t, 0, code, errs)
	require.NoError(t, json.Unmarshal([]byte(out), &st))
	assert.False(t, st.Held)
}

// tguard index holds the lease from a three-member cluster, and the whole
// cluster is killed right after its grant, before its commit: the commit's
// ownership check cannot reach a quorum, so the run ends with the lease
// lost (exit 76) before the TTL has passed since the kill, and commits
// nothing: the index keeps its last token and the documents stay
// journaled, for a later flush (here with the file backend, as an
// operator would while the cluster is down; its token is above the last).
func TestKillWholeClusterWhileIndexing(t *testing.T) {
	prereq.Long(t, "kills and restarts a whole etcd cluster while indexing")
	c := startCluster(t, 3)
	const lease = 3 * time.Second
	root := t.TempDir()
	ix := filepath.Join(root, "index")
	j := filepath.Join(root, "j.db")
	env := []string{"TGUARD_ETCD_ENDPOINTS=" + c.endpoints()}
	testbin.Corpus(t, filepath.Join(root, "seed"), "seed", 1)
	code, _, errs := tguard(t, env, "index", "--index", ix, "--backend", "etcd", "--journal", j, filepath.Join(root, "seed"))
	require.Equal(t, 0, code, errs)
	before := indexToken(t, ix)

	words := testbin.Corpus(t, filepath.Join(root, "docs"), "outage", 20)
	p := tguardBin.Command("--log-level", "info", "index", "--index", ix, "--backend", "etcd",
		"--journal", j, "--lease", lease.String(), "--batch", "1", filepath.Join(root, "docs")).With(env...).Start(t)
	output := func() string { return p.Stdout() + p.Stderr() }
	require.Eventually(t, func() bool { return strings.Contains(p.Stderr(), `msg="lock: acquired"`) },
		30*time.Second, time.Millisecond, "no grant")
	killed := time.Now()
	for _, m := range c.members {
		_ = m.cmd.Process.Kill()
	}
	code = p.Wait(t, lease+30*time.Second)
	took := time.Since(killed)
	// tguard logs the loss ("lock: lease lost") the moment its lease ends.
	m := regexp.MustCompile(`(?m)^time=(\S+) level=WARN msg="lock: lease lost"`).FindStringSubmatch(p.Stderr())
	require.NotNil(t, m, "no loss reported:\n%s", output())
	lostAt, err := time.Parse(time.RFC3339Nano, m[1])
	require.NoError(t, err)
	t.Logf("FIGURE etcd_kill_cluster_indexing lease=%v exit=%d lost_after_ms=%d ended_after_ms=%d",
		lease, code, lostAt.Sub(killed).Milliseconds(), took.Milliseconds())
	assert.Equal(t, 76, code, "lease lost, nothing committed:\n%s", output())
	// The log's clock has millisecond resolution.
	assert.Less(t, lostAt.Sub(killed), lease-time.Millisecond, "the loss must be reported before the TTL ends")
	assert.Less(t, took, lease+5*time.Second, "tguard must exit once the lease is lost")
	assert.Equal(t, before, indexToken(t, ix), "nothing was committed")
	assert.Equal(t, 0, hits(t, ix, words[0]))

	code, _, errs = tguard(t, nil, "flush", "--index", ix, "--journal", j)
	require.Equal(t, 0, code, errs)
	assert.Greater(t, indexToken(t, ix), before)
	for _, w := range words {
		assert.Equal(t, 1, hits(t, ix, w), w)
	}
}
