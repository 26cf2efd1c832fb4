package etcd_test

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tguard/tguard/tests/prereq"
	"github.com/tguard/tguard/tests/verifier"
)

// cyclesEnv sets the cycles per process of TestVerifierOverEtcd (default
// 500).
const cyclesEnv = "TGUARD_ETCD_CYCLES"

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// loops starts n loop helpers reporting to srv and waits for them.
func loops(t *testing.T, srv *verifier.Server, c *cluster, key string, n, cycles int, noLock bool) {
	t.Helper()
	var procs []helperProc
	for i := 1; i <= n; i++ {
		env := []string{
			envAddr + "=" + srv.Addr(), envID + "=" + fmt.Sprintf("p%d", i),
			envEndpoints + "=" + c.endpoints(), envKey + "=" + key, envLease + "=5s",
			envCycles + "=" + strconv.Itoa(cycles),
		}
		if noLock {
			env = append(env, envNoLock+"=1")
		}
		procs = append(procs, startHelper(t, "loop", env...))
	}
	for i, p := range procs {
		if code := p.wait(5 * time.Minute); code != 0 {
			t.Errorf("process p%d exited %d:\n%s", i+1, code, p.output())
		}
	}
}

// The proof harness's verifier over the etcd backend: four processes, each
// taking the lease 500 times, report every grant and release to the
// verifier; then tguard lock exec does the same through the CLI; then the
// same loops without the lock, which the verifier must catch.
func TestVerifierOverEtcd(t *testing.T) {
	prereq.Long(t, "the exclusion verifier over an etcd cluster for a minute")
	c := startCluster(t, 1)
	n := envInt(cyclesEnv, 500)

	t.Run("racing", func(t *testing.T) {
		srv := verifier.Start(t)
		begin := time.Now()
		loops(t, srv, c, "racing", 4, n, false)
		rep := srv.Report()
		t.Logf("FIGURE etcd_racing processes=4 cycles=%d violations=%d seconds=%.1f first_token=%d last_token=%d",
			rep.Cycles, len(rep.Violations), time.Since(begin).Seconds(), first(rep.Tokens), last(rep.Tokens))
		assert.Empty(t, rep.Violations)
		assert.Equal(t, 4*n, rep.Cycles)
		for i := 1; i < len(rep.Tokens); i++ {
			require.Greater(t, rep.Tokens[i], rep.Tokens[i-1], "tokens must strictly grow")
		}
	})

	t.Run("lock exec", func(t *testing.T) {
		srv := verifier.Start(t)
		const procs, cycles = 3, 8
		var wg sync.WaitGroup
		var mu sync.Mutex
		var failures []string
		for i := 1; i <= procs; i++ {
			wg.Add(1)
			go func(id string) {
				defer wg.Done()
				for k := 0; k < cycles; k++ {
					r := tguardBin.Command("lock", "exec", "--index", t.TempDir(), "--backend", "etcd",
						"--etcd-key", "exec", "--lease", "5s", "--", testBin, "-test.run=^$").
						With(append(verifier.ContenderEnv(srv.Addr(), id),
							"TGUARD_ETCD_ENDPOINTS="+c.endpoints(),
							"GORACE="+strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))...).Run(t)
					if r.Code != 0 {
						mu.Lock()
						failures = append(failures, fmt.Sprintf("%s cycle %d: exit %d\n%s%s", id, k, r.Code, r.Stdout, r.Stderr))
						mu.Unlock()
						return
					}
				}
			}(fmt.Sprintf("x%d", i))
		}
		wg.Wait()
		require.Empty(t, failures)
		rep := srv.Report()
		assert.Empty(t, rep.Violations)
		assert.Equal(t, procs*cycles, rep.Cycles)
	})

	t.Run("control", func(t *testing.T) {
		srv := verifier.Start(t)
		loops(t, srv, c, "control", 4, min(n, 200), true)
		rep := srv.Report()
		t.Logf("FIGURE etcd_control processes=4 overlaps=%d", rep.Overlaps)
		assert.Positive(t, rep.Overlaps, "without the lock the verifier must see overlaps")
	})
}

func first(s []uint64) uint64 {
	if len(s) == 0 {
		return 0
	}
	return s[0]
}

func last(s []uint64) uint64 {
	if len(s) == 0 {
		return 0
	}
	return s[len(s)-1]
}
