package serve

import (
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/tguard/tguard/tests/smbtest"
)

// TestShareSearchWhileWriterCommits: on the Samba share mounted twice (two
// simulated hosts), an instance on host B answers searches continuously
// while an instance on host A commits every 50 ms, each commit upserting
// the same documents again: Tantivy then writes new delete files for the
// old segments and its garbage collection removes the previous ones,
// files that B's reader may have just read about in meta.json. Across
// hosts no lock keeps them: every search on B must still answer 200 with
// every document once. (Background merges are off in tguard; these are the
// segment files commits remove.)
func TestShareSearchWhileWriterCommits(t *testing.T) {
	if testing.Short() {
		t.Skip("SMB share test")
	}
	share := smbtest.Start(t)
	state := t.TempDir()
	on := func(host string) func(*exec.Cmd) { return func(c *exec.Cmd) { smbtest.OtherHost(host, c) } }
	writer := startWith(t, on("serve-a"), filepath.Join(share.MountA, "index"), state, "writer", "--commit-every", "50ms")
	reader := startWith(t, on("serve-b"), filepath.Join(share.MountB, "index"), state, "reader", "--commit-every", "50ms")

	const n = 40
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("doc%02d", i)
	}
	post := func() {
		var acc accepted
		code, err := writer.do("POST", "/documents", jsonl(ids), &acc)
		require.NoError(t, err)
		require.Equal(t, http.StatusAccepted, code, "%+v", acc)
	}
	post()
	require.Eventually(t, func() bool { return len(reader.countIDsQuiet(2*n)) == n }, time.Minute, 100*time.Millisecond,
		"the first commit is not searchable on host B\n%s", writer.stderr)

	stop := make(chan struct{})
	var searches, failures atomic.Int64
	var firstFailure atomic.Value
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				res, code, err := reader.search("common", 2*n)
				searches.Add(1)
				if err != nil || code != http.StatusOK || res.Total != n {
					failures.Add(1)
					firstFailure.CompareAndSwap(nil, fmt.Sprintf("code %d, total %d, error %v %s", code, res.Total, err, res.Error))
				}
			}
		})
	}
	commitsBefore := tokenOf(t, writer)
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		post()
		time.Sleep(60 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	commits := tokenOf(t, writer) - commitsBefore
	t.Logf("%d searches on host B during %d commits on host A; %d failed; %s", searches.Load(), commits, failures.Load(),
		metricLine(t, reader, "tguard_search_retries_total"))
	require.Greater(t, commits, uint64(20), "the writer committed often")
	require.Zero(t, failures.Load(), "first failure: %v\nreader log:\n%s", firstFailure.Load(), reader.stderr)
	require.Equal(t, 0, writer.stop())
	require.Equal(t, 0, reader.stop())
}

// tokenOf is the fencing token of the instance's last grant.
func tokenOf(t *testing.T, in *instance) uint64 {
	t.Helper()
	var st struct {
		Token uint64 `json:"token"`
	}
	code, err := in.do("GET", "/lock", nil, &st)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, code)
	return st.Token
}

// metricLine is the line of /metrics that starts with name.
func metricLine(t *testing.T, in *instance, name string) string {
	t.Helper()
	resp, err := client.Get(in.base + "/metrics")
	require.NoError(t, err)
	var b strings.Builder
	_, _ = metricsBody(resp, &b)
	for _, line := range strings.Split(b.String(), "\n") {
		if strings.HasPrefix(line, name+" ") {
			return line
		}
	}
	return name + " missing"
}
