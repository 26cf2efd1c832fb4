package e2e

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"syscall"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tguard/tguard/tests/prereq"
)

// chaosKillsEnv sets how many tguard index processes TestChaosKills kills.
const chaosKillsEnv = "TGUARD_CHAOS_KILLS"

// journalIDs returns the ids of the documents waiting in a journal: read
// only, the way a user would inspect it (sqlite3 -readonly).
func journalIDs(t *testing.T, path string) []string {
	t.Helper()
	if _, err := os.Stat(path); os.IsNotExist(err) {
		return nil
	}
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	require.NoError(t, err)
	defer db.Close()
	rows, err := db.Query("SELECT doc_id FROM entries WHERE op = 1")
	if err != nil {
		// Killed before the journal's schema was committed: nothing in it.
		return nil
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		require.NoError(t, rows.Scan(&id))
		ids = append(ids, id)
	}
	require.NoError(t, rows.Err())
	return ids
}

// indexedIDs returns the ids of the documents matching query, with
// repeats if a document is there twice.
func indexedIDs(t *testing.T, ix, query string) []string {
	t.Helper()
	if _, err := os.Stat(filepath.Join(ix, "meta.json")); err != nil {
		return nil
	}
	r := tguard(t, nil, "search", "--index", ix, "--json", "--limit", "100000", query)
	require.Equal(t, 0, r.Code, "the index must open after every kill: %s", r.Stderr)
	var res struct {
		Total int
		Hits  []struct{ ID string }
	}
	require.NoError(t, json.Unmarshal([]byte(r.Stdout), &res))
	require.Equal(t, res.Total, len(res.Hits))
	ids := make([]string, len(res.Hits))
	for i, h := range res.Hits {
		ids[i] = h.ID
	}
	return ids
}

// Chaos: tguard index runs again and again, each run on new documents, and
// is killed with SIGKILL at a random moment (the first runs at the
// failpoints right before and right after the commit). After each kill the
// index must open, and the documents accepted so far are known: those in
// the journal (acknowledged) and those already in the index. At the end one
// tguard flush applies the journal. Every accepted document must then be in
// the index exactly once: none lost, none duplicated, nothing else there.
func TestChaosKills(t *testing.T) {
	prereq.Long(t, "chaos: kills holders at random")
	target := 12
	if n, err := strconv.Atoi(os.Getenv(chaosKillsEnv)); err == nil && n > 0 {
		target = n
	}
	root := t.TempDir()
	ix, journal := filepath.Join(root, "index"), filepath.Join(root, "journal.db")
	failpoints := []string{"before-commit:crash", "after-commit:crash"}
	accepted := map[string]bool{}
	var killedAt []time.Duration
	kills, finished, round := 0, 0, 0
	// Kills land uniformly within the length of the last run that was not
	// killed, so that they hit every phase: start, journal, grant, apply,
	// commit, journal cleanup.
	window := 250 * time.Millisecond
	for kills < target {
		round++
		require.Less(t, round, 4*target+10, "too few runs were killed in time: the kill window misses the work")
		tag := fmt.Sprintf("chaosround%d", round)
		docs := filepath.Join(root, "docs", tag)
		for i := 0; i < 40; i++ {
			writeFile(t, filepath.Join(docs, fmt.Sprintf("f%02d.txt", i)), fmt.Sprintf("%s\n%sdoc%d\n", tag, tag, i))
		}
		cmd := tguardBin.Command("index", "--index", ix, "--owner", "chaos", "--journal", journal, "--batch", "10", docs)
		if round <= len(failpoints) {
			cmd.With("TGUARD_FAILPOINT=" + failpoints[round-1])
		}
		start := time.Now()
		p := cmd.Start(t)
		if round > len(failpoints) {
			time.Sleep(rand.N(window))
			_ = p.Process.Signal(syscall.SIGKILL)
		}
		code := p.Wait(t, 2*time.Minute)
		if p.Signaled(syscall.SIGKILL) {
			kills++
			killedAt = append(killedAt, time.Since(start))
		} else {
			require.Equal(t, 0, code, "round %d: a run that was not killed must succeed: %s", round, p.Stderr())
			finished++
			window = time.Since(start)
		}
		// What this run accepted: what it acknowledged (the journal) and
		// what it already applied (the index).
		for _, id := range journalIDs(t, journal) {
			accepted[id] = true
		}
		for _, id := range indexedIDs(t, ix, tag) {
			accepted[id] = true
		}
	}

	// The first flush applies what the kills left; its commit's entries
	// stay until a later grant reads them in the index: the second flush.
	for range 2 {
		r := tguard(t, nil, "flush", "--index", ix, "--owner", "chaos", "--journal", journal)
		require.Equal(t, 0, r.Code, r.Stderr)
	}
	assert.Empty(t, journalIDs(t, journal), "the second flush confirmed every entry and emptied the journal")

	seen := map[string]int{}
	for i := 1; i <= round; i++ {
		for _, id := range indexedIDs(t, ix, fmt.Sprintf("chaosround%d", i)) {
			seen[id]++
		}
	}
	lost, duplicated, unknown := 0, 0, 0
	for id := range accepted {
		if seen[id] == 0 {
			lost++
			t.Errorf("accepted but not in the index: %s", id)
		}
	}
	for id, n := range seen {
		if n > 1 {
			duplicated++
			t.Errorf("in the index %d times: %s", n, id)
		}
		if !accepted[id] {
			unknown++
			t.Errorf("in the index but never accepted: %s", id)
		}
	}
	assert.Equal(t, len(accepted), readStats(t, ix).Docs, "the index holds the accepted documents and nothing else")
	sort.Slice(killedAt, func(i, j int) bool { return killedAt[i] < killedAt[j] })
	t.Logf("FIGURE chaos runs=%d kills=%d finished=%d accepted=%d lost=%d duplicated=%d unexpected=%d kill_after_p50_ms=%d kill_after_max_ms=%d",
		round, kills, finished, len(accepted), lost, duplicated, unknown,
		killedAt[len(killedAt)/2].Milliseconds(), killedAt[len(killedAt)-1].Milliseconds())
}
