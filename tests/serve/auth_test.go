package serve

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestServeToken: with --token-file every endpoint but the probes needs
// the bearer token; ids with slashes (file paths) work in the status URL.
func TestServeToken(t *testing.T) {
	dir, state := tempDirs(t)
	tok := filepath.Join(state, "token")
	require.NoError(t, os.WriteFile(tok, []byte("s3cret\n"), 0o600))
	in := start(t, dir, state, "tok", "--token-file", tok, "--commit-every", "100ms")

	send := func(method, path, auth string, body string) int {
		req, err := http.NewRequest(method, in.base+path, nil)
		require.NoError(t, err)
		if body != "" {
			req, err = http.NewRequest(method, in.base+path, strings.NewReader(body))
			require.NoError(t, err)
		}
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := client.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	require.Equal(t, http.StatusOK, send("GET", "/healthz", "", ""))
	require.Equal(t, http.StatusOK, send("GET", "/readyz", "", ""))
	for _, p := range []string{"/search?q=x", "/lock", "/metrics", "/documents/a/status"} {
		require.Equal(t, http.StatusUnauthorized, send("GET", p, "", ""), p)
		require.Equal(t, http.StatusUnauthorized, send("GET", p, "Bearer wrong", ""), p)
	}
	require.Equal(t, http.StatusUnauthorized, send("POST", "/documents", "", doc("/docs/a.txt")))
	require.Equal(t, http.StatusAccepted, send("POST", "/documents", "Bearer s3cret", doc("/docs/a.txt")))
	require.Equal(t, http.StatusOK, send("GET", "/lock", "Bearer s3cret", ""))
	status := "/documents/" + url.PathEscape("/docs/a.txt") + "/status"
	require.Eventually(t, func() bool {
		return send("GET", status, "Bearer s3cret", "") == http.StatusOK
	}, 30*time.Second, 50*time.Millisecond)
	require.Equal(t, 0, in.stop())
}
