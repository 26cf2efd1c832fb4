package serve

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestServeShutdownCommitsHeldTurn: SIGTERM while the instance holds the
// lease for a turn: the turn commits, the lease is released, exit 0.
func TestServeShutdownCommitsHeldTurn(t *testing.T) {
	dir, state := tempDirs(t)
	in := start(t, dir, state, "h", "--commit-every", "100ms")
	const n = 30_000
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `{"id":"s%d","body":"common %d"}`+"\n", i, i)
	}
	var acc accepted
	code, err := in.do("POST", "/documents", []byte(b.String()), &acc)
	require.NoError(t, err)
	require.Equal(t, http.StatusAccepted, code, "%+v", acc)
	require.Eventually(t, func() bool {
		return metricLine(t, in, "tguard_lease_held") == "tguard_lease_held 1"
	}, 30*time.Second, 2*time.Millisecond, "no turn started")
	require.Equal(t, 0, in.stop(), "%s", in.stderr)

	require.NotContains(t, tguardBin.Command("lock", "status", "--json", "--index", dir).Output(t), `"held":true`)
	var st struct{ Docs int }
	tguardBin.Command("stats", "--json", "--index", dir).Run(t).JSON(t, &st)
	require.Equal(t, n, st.Docs, "the turn under way at SIGTERM committed")
}
