package lock

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tguard/tguard/tests/helperproc"
	"github.com/tguard/tguard/tests/prereq"
	"github.com/tguard/tguard/tests/verifier"
)

// Multi-process tests re-execute this test binary as a contender, as Go's
// own lockedfile tests do (the protocol is tests/helperproc's). The test
// binary imports tests/...; the lock package itself does not.
func TestMain(m *testing.M) {
	helperproc.Main(helperproc.Roles{
		"hold":   roleHold,
		"crash":  roleCrash,
		"cycles": roleCycles,
		"exit":   func() error { return nil },
	})
	os.Exit(m.Run())
}

// param passes a parameter to a helper role.
var param = helperproc.Param

// helperLocker is the Locker of a role: on the folder DIR, with lease LEASE
// (default 1s), owner OWNER and its wall clock skewed by SKEW, after setting
// the process's umask to UMASK (octal).
func helperLocker() (*Locker, error) {
	if u := helperproc.Value("UMASK"); u != "" {
		m, err := strconv.ParseUint(u, 8, 32)
		if err != nil {
			return nil, fmt.Errorf("UMASK: %w", err)
		}
		setUmask(int(m))
	}
	lease, err := helperproc.DurationValue("LEASE", time.Second)
	if err != nil {
		return nil, err
	}
	opts := []Option{WithLeaseDuration(lease)}
	skew, err := helperproc.DurationValue("SKEW", 0)
	if err != nil {
		return nil, err
	}
	if skew != 0 {
		opts = append(opts, WithClock(SkewedClock(skew)))
	}
	if owner := helperproc.Value("OWNER"); owner != "" {
		opts = append(opts, WithOwner(owner))
	}
	return New(helperproc.Value("DIR"), opts...)
}

// roleHold acquires, prints "acquired TOKEN", holds (renewing) until stdin
// closes, then releases and prints "released" (or "lost ERROR").
func roleHold() error {
	l, err := helperLocker()
	if err != nil {
		return err
	}
	ctx := context.Background()
	lease, err := l.Acquire(ctx)
	if err != nil {
		return err
	}
	helperproc.Printf("acquired %d", lease.Token())
	helperproc.AwaitStop()
	if err := lease.Release(ctx); err != nil {
		helperproc.Printf("lost %v", err)
		return nil
	}
	helperproc.Printf("released")
	return nil
}

// roleCrash acquires, prints "acquired TOKEN" and exits without releasing:
// a crash as far as the lease is concerned.
func roleCrash() error {
	l, err := helperLocker()
	if err != nil {
		return err
	}
	lease, err := l.Acquire(context.Background())
	if err != nil {
		return err
	}
	helperproc.Printf("acquired %d", lease.Token())
	return nil
}

// roleCycles acquires and releases CYCLES times, reporting each grant and
// release to the verifier at VERIFIER around a read-modify-write of the
// counter in the file COUNTER. With NOLOCK=1 the lock is skipped and the
// tokens made up (the control run that must be caught).
func roleCycles() error {
	n, err := helperproc.IntValue("CYCLES", 0)
	if err != nil {
		return err
	}
	nolock := helperproc.Value("NOLOCK") == "1"
	v, err := verifier.Dial(helperproc.Value("VERIFIER"))
	if err != nil {
		return err
	}
	defer v.Close()
	l, err := helperLocker()
	if err != nil {
		return err
	}
	id := "pid" + strconv.Itoa(os.Getpid())
	ctx := context.Background()
	for i := range n {
		var lease *Lease
		token := uint64(i + 1) // what an unlocked contender would make up
		if !nolock {
			if lease, err = l.Acquire(ctx); err != nil {
				return err
			}
			token = lease.Token()
		}
		if err := v.Acquired(id, token); err != nil {
			return err
		}
		if err := bumpCounter(helperproc.Value("COUNTER")); err != nil {
			return err
		}
		if err := v.Released(id, token); err != nil {
			return err
		}
		if lease != nil {
			if err := lease.Release(ctx); err != nil {
				return err
			}
		}
	}
	return nil
}

// bumpCounter is a deliberately racy read-modify-write: two holders at once
// lose an increment (the DynamoDB lock client's stress test).
func bumpCounter(path string) error {
	b, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	time.Sleep(50 * time.Microsecond)
	return os.WriteFile(path, []byte(strconv.Itoa(n+1)), 0o644)
}

// startChild runs role in a helper process. With hostname set, the child
// runs in its own UTS namespace under that hostname: another host, as far
// as the protocol can tell.
func startChild(t *testing.T, role, hostname string, opts ...helperproc.Option) *helperproc.Proc {
	t.Helper()
	if hostname != "" {
		if runtime.GOOS != "linux" {
			t.Skip("another hostname needs a Linux UTS namespace (unshare -u)")
		}
		prereq.Root(t, "give a helper another hostname (unshare -u)")
		opts = append(opts, helperproc.Prepare(otherHostname(hostname)))
	}
	return helperproc.StartTest(t, role, opts...)
}
