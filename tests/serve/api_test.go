package serve

import (
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestServeAPI: one instance: documents in (one object, JSON lines, bad
// lines, oversized), status from pending to committed with the token,
// searches equal to tguard search --json, lock, health, metrics.
func TestServeAPI(t *testing.T) {
	dir, state := tempDirs(t)
	in := start(t, dir, state, "solo", "--commit-every", "300ms", "--max-body", "100000")

	var ready map[string]any
	code, err := in.do("GET", "/readyz", nil, &ready)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, code, "%v", ready)
	code, err = in.do("GET", "/healthz", nil, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, code)

	// One object spanning lines.
	var acc accepted
	code, err = in.do("POST", "/documents", []byte("{\n \"id\": \"one\",\n \"body\": \"common pretty\"\n}\n"), &acc)
	require.NoError(t, err)
	require.Equal(t, http.StatusAccepted, code, "%+v", acc)
	require.Len(t, acc.Seqs, 1)
	// JSON lines: consecutive sequence numbers after the first.
	code, err = in.do("POST", "/documents", jsonl([]string{"two", "three"}), &acc)
	require.NoError(t, err)
	require.Equal(t, http.StatusAccepted, code, "%+v", acc)
	require.Equal(t, 2, acc.Accepted)
	require.Len(t, acc.Seqs, 2)
	require.Equal(t, acc.Seqs[0]+1, acc.Seqs[1])

	// A bad line refuses the whole body, naming the line.
	var bad accepted
	body := append(jsonl([]string{"four"}), []byte("{\"body\":\"no id\"}\n")...)
	code, err = in.do("POST", "/documents", body, &bad)
	require.NoError(t, err)
	require.Equal(t, http.StatusBadRequest, code)
	require.Equal(t, 2, bad.Line, "%+v", bad)
	require.Contains(t, bad.Error, "line 2")
	code, err = in.do("POST", "/documents", []byte("{\"id\":\"five\",\n"), &bad)
	require.NoError(t, err)
	require.Equal(t, http.StatusBadRequest, code)
	require.Equal(t, 1, bad.Line, "%+v", bad)
	// Oversized.
	code, err = in.do("POST", "/documents", []byte(doc(strings.Repeat("x", 200_000))), nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusRequestEntityTooLarge, code)

	// Status: committed within a few commit intervals, with a token.
	type status struct {
		State string `json:"state"`
		Token uint64 `json:"token"`
	}
	require.Eventually(t, func() bool {
		var st status
		code, err := in.do("GET", "/documents/three/status", nil, &st)
		return err == nil && code == http.StatusOK && st.State == "committed" && st.Token > 0
	}, 30*time.Second, 50*time.Millisecond)
	var unknown status
	code, err = in.do("GET", "/documents/four/status", nil, &unknown)
	require.NoError(t, err)
	require.Equal(t, http.StatusNotFound, code)
	require.Equal(t, "unknown", unknown.State)

	// The same answer as tguard search --json.
	var viaHTTP, viaCLI any
	code, err = in.do("GET", "/search?q=common&limit=10", nil, &viaHTTP)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, code)
	tguardBin.Command("search", "--json", "--index", dir, "--limit", "10", "common").Run(t).JSON(t, &viaCLI)
	require.Equal(t, viaCLI, viaHTTP)
	require.Equal(t, 3.0, viaHTTP.(map[string]any)["total"])
	code, err = in.do("GET", "/search?q=title:(", nil, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusBadRequest, code)

	// The lease as tguard lock status --json prints it; not held now.
	var viaLock, lockCLI map[string]any
	code, err = in.do("GET", "/lock", nil, &viaLock)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, code)
	tguardBin.Command("lock", "status", "--json", "--index", dir).Run(t).JSON(t, &lockCLI)
	require.Equal(t, false, viaLock["held"])
	require.Equal(t, lockCLI["token"], viaLock["token"])
	require.Equal(t, lockCLI["state"], viaLock["state"])

	resp, err := client.Get(in.base + "/metrics")
	require.NoError(t, err)
	var metrics strings.Builder
	_, _ = metricsBody(resp, &metrics)
	for _, name := range []string{"tguard_lease_held 0", "tguard_lease_grants_total", "tguard_lease_renewals_total",
		"tguard_lease_renewal_failures_total", "tguard_leases_lost_total", "tguard_lease_handoff_wait_seconds_bucket",
		"tguard_journal_depth 0", "tguard_documents_committed_total 3", "tguard_commit_duration_seconds_bucket",
		"tguard_fencing_token"} {
		require.Contains(t, metrics.String(), name)
	}

	require.Equal(t, 0, in.stop(), "%s", in.stderr)
	require.Contains(t, in.stderr.String(), `"msg":"serve: shutting down"`, "JSON logs")
}

// TestServeShutdownKeepsJournal: SIGTERM exits 0 without holding the lease;
// documents not yet committed stay journaled and are committed when the
// instance starts again.
func TestServeShutdownKeepsJournal(t *testing.T) {
	dir, state := tempDirs(t)
	in := start(t, dir, state, "a", "--commit-every", "1h")
	var acc accepted
	code, err := in.do("POST", "/documents", jsonl([]string{"x1", "x2"}), &acc)
	require.NoError(t, err)
	require.Equal(t, http.StatusAccepted, code)
	require.Equal(t, 0, in.stop(), "%s", in.stderr)
	// A folder not made yet has no lease: with --commit-every 1h the
	// instance may stop before its first turn, and lock status refuses a
	// missing folder.
	if _, err := os.Stat(dir); err == nil {
		require.NotContains(t, tguardBin.Command("lock", "status", "--json", "--index", dir).Output(t), `"held":true`)
	}

	again := start(t, dir, state, "a", "--commit-every", "100ms")
	require.Eventually(t, func() bool {
		counts := again.countIDsQuiet(10)
		return counts["x1"] == 1 && counts["x2"] == 1
	}, 30*time.Second, 50*time.Millisecond, "%s", again.stderr)
	require.Equal(t, 0, again.stop())
}

func (in *instance) countIDsQuiet(limit int) map[string]int {
	res, code, err := in.search("common", limit)
	counts := map[string]int{}
	if err != nil || code != http.StatusOK {
		return counts
	}
	for _, h := range res.Hits {
		id, _ := h["id"].(string)
		counts[id]++
	}
	return counts
}
