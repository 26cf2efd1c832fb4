package serve

import (
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestThreeInstances: three instances serve one index; documents are posted
// round-robin to all three by several clients; one instance is killed -9
// in the middle and started again. Every acknowledged document is then
// searchable on every instance exactly once, nothing is found that was not
// posted, and no instance holds the lease with nothing pending.
func TestThreeInstances(t *testing.T) {
	dir, state := tempDirs(t)
	args := []string{"--commit-every", "200ms", "--lease", "5s"}
	names := []string{"i0", "i1", "i2"}
	var mu sync.Mutex
	ins := make([]*instance, 3)
	for i, n := range names {
		ins[i] = start(t, dir, state, n, args...)
	}
	get := func(i int) *instance { mu.Lock(); defer mu.Unlock(); return ins[i] }

	const clients, posts, perPost = 4, 60, 20 // 4,800 documents
	var next atomic.Int64
	var ackMu sync.Mutex
	acked := map[string]bool{}
	var refused atomic.Int64
	var wg sync.WaitGroup
	killAt, restartAt := int64(clients*posts/3), int64(clients*posts*2/3)
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := 0; p < posts; p++ {
				k := next.Add(1)
				ids := make([]string, perPost)
				for d := range ids {
					ids[d] = fmt.Sprintf("c%d-p%d-d%d", c, p, d)
				}
				var acc accepted
				code, err := get(int(k)%3).do("POST", "/documents", jsonl(ids), &acc)
				if err != nil || code != http.StatusAccepted {
					refused.Add(1) // not acknowledged: may or may not be applied
					continue
				}
				ackMu.Lock()
				for _, id := range ids {
					acked[id] = true
				}
				ackMu.Unlock()
			}
		}()
	}
	// The kill and the restart, from the test's goroutine, while the
	// clients post.
	waitPosts := func(n int64) {
		for next.Load() < n {
			time.Sleep(time.Millisecond)
		}
	}
	waitPosts(killAt)
	get(1).kill()
	t.Logf("killed i1 -9 after %d posts", next.Load())
	waitPosts(restartAt)
	restarted := start(t, dir, state, "i1", args...)
	mu.Lock()
	ins[1] = restarted
	mu.Unlock()
	t.Logf("restarted i1 after %d posts", next.Load())
	wg.Wait()
	t.Logf("%d documents acknowledged, %d posts refused while i1 was down", len(acked), refused.Load())
	require.Greater(t, refused.Load(), int64(0), "the kill happened mid-run")

	limit := clients*posts*perPost + 100
	for i := range ins {
		in := get(i)
		var counts map[string]int
		require.Eventually(t, func() bool {
			counts = in.countIDsQuiet(limit)
			for id := range acked {
				if counts[id] != 1 {
					return false
				}
			}
			return true
		}, 2*time.Minute, 200*time.Millisecond, "instance %s: not every acknowledged document is searchable once", in.name)
		for id, n := range counts {
			require.Equal(t, 1, n, "instance %s: %s found %d times", in.name, id, n)
		}
	}
	// Nothing pending anywhere: nobody holds the lease.
	require.Eventually(t, func() bool {
		for i := range ins {
			var st map[string]any
			code, err := get(i).do("GET", "/lock", nil, &st)
			if err != nil || code != http.StatusOK || st["held"] == true {
				return false
			}
		}
		return true
	}, 30*time.Second, 100*time.Millisecond, "the lease is held with nothing pending")
	for i := range ins {
		require.Equal(t, 0, get(i).stop(), "%s", get(i).stderr)
	}
}
