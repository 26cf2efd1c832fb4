package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/tguard/tguard/tests/testbin"
)

// instance is one running tguard serve.
type instance struct {
	t      *testing.T
	name   string
	p      *testbin.Proc
	base   string // http://127.0.0.1:PORT
	stderr procStderr
}

// procStderr prints what the instance wrote to stderr so far.
type procStderr struct{ p *testbin.Proc }

func (s procStderr) String() string { return s.p.Stderr() }

var servingRe = regexp.MustCompile(`on (http://\S+) as`)

// start runs tguard serve on a free loopback port with its own owner and
// journal (both kept across restarts of the same name).
func start(t *testing.T, dir, stateDir, name string, extra ...string) *instance {
	t.Helper()
	return startWith(t, nil, dir, stateDir, name, extra...)
}

// startWith is start with prep applied to the command first (to run it on
// a simulated host).
func startWith(t *testing.T, prep func(*exec.Cmd), dir, stateDir, name string, extra ...string) *instance {
	t.Helper()
	args := append([]string{"serve", "--index", dir, "--listen", "127.0.0.1:0", "--owner", name,
		"--journal", filepath.Join(stateDir, name+".db"), "--log-level", "info", "--log-format", "json"}, extra...)
	cmd := tguardBin.Command(args...)
	if prep != nil {
		cmd.Prep(prep)
	}
	p := cmd.Start(t)
	in := &instance{t: t, name: name, p: p, stderr: procStderr{p}}
	deadline := time.Now().Add(60 * time.Second)
	for {
		if m := servingRe.FindStringSubmatch(p.Stderr()); m != nil {
			in.base = m[1]
			return in
		}
		select {
		case <-p.Done():
			t.Fatalf("%s exited at start: %v\n%s", name, p.Err(), p.Stderr())
		case <-time.After(5 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not start\n%s", name, p.Stderr())
		}
	}
}

func (in *instance) kill() {
	_ = in.p.Process.Signal(syscall.SIGKILL)
	<-in.p.Done()
}

// stop sends SIGTERM and returns the exit code.
func (in *instance) stop() int {
	in.t.Helper()
	in.p.Signal(in.t, syscall.SIGTERM)
	return in.p.Wait(in.t, 60*time.Second)
}

var client = &http.Client{Timeout: 30 * time.Second}

// do sends a request and decodes a JSON answer into out (if not nil).
func (in *instance) do(method, path string, body []byte, out any) (int, error) {
	req, err := http.NewRequestWithContext(context.Background(), method, in.base+path, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: %d %q: %v", method, path, resp.StatusCode, b, err)
		}
	}
	return resp.StatusCode, nil
}

type accepted struct {
	Accepted int      `json:"accepted"`
	Seqs     []uint64 `json:"seqs"`
	Error    string   `json:"error"`
	Line     int      `json:"line"`
}

type hit map[string]any

type searchResult struct {
	Total int   `json:"total"`
	Hits  []hit `json:"hits"`
	Error string
}

func (in *instance) search(q string, limit int) (searchResult, int, error) {
	var res searchResult
	code, err := in.do("GET", "/search?q="+url.QueryEscape(q)+fmt.Sprintf("&limit=%d", limit), nil, &res)
	return res, code, err
}

// doc is a test document: its id and a body every test document shares.
func doc(id string) string {
	return fmt.Sprintf(`{"id":%q,"title":"doc %s","body":"common words for %s"}`, id, id, id)
}

// jsonl is docs as JSON lines.
func jsonl(ids []string) []byte {
	var b strings.Builder
	for _, id := range ids {
		b.WriteString(doc(id))
		b.WriteByte('\n')
	}
	return []byte(b.String())
}

func tempDirs(t *testing.T) (index, state string) {
	t.Helper()
	root := t.TempDir()
	index, state = filepath.Join(root, "index"), filepath.Join(root, "state")
	require.NoError(t, os.MkdirAll(state, 0o700))
	return index, state
}

func metricsBody(resp *http.Response, into *strings.Builder) (int64, error) {
	defer resp.Body.Close()
	return io.Copy(into, resp.Body)
}
