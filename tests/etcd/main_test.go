// Package etcd_test runs tguard's etcd backend against real etcd servers
// started on loopback ports in temporary folders: the proof harness's
// verifier over it, and faults of holders and of cluster members.
package etcd_test

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tguard/tguard/lock"
	"github.com/tguard/tguard/tests/helperproc"
	"github.com/tguard/tguard/tests/testbin"
	"github.com/tguard/tguard/tests/verifier"
)

// tguardBin is the CLI built for this run; testBin is this test binary,
// which the tests re-execute in the roles below.
var (
	tguardBin testbin.Bin
	testBin   string
)

// The parameters of a re-executed helper (tests/helperproc): environment
// variables, which tguard lock exec passes on.
const (
	envEndpoints = helperproc.ParamPrefix + "ETCDTEST_ENDPOINTS"
	envKey       = helperproc.ParamPrefix + "ETCDTEST_KEY"
	envLease     = helperproc.ParamPrefix + "ETCDTEST_LEASE"
	envCycles    = helperproc.ParamPrefix + "ETCDTEST_CYCLES" // loop: cycles (0: until envFor)
	envFor       = helperproc.ParamPrefix + "ETCDTEST_FOR"    // loop: run for this long
	envNoLock    = helperproc.ParamPrefix + "ETCDTEST_NOLOCK" // loop: the control, without the lock
	envStall     = helperproc.ParamPrefix + "ETCDTEST_STALL"  // holder: WithStallTimeout
	envStay      = helperproc.ParamPrefix + "ETCDTEST_STAY"   // holder: 1 keeps the process alive after the loss
	// envAddr and envID are the loop's verifier and id (not verifier.EnvAddr,
	// the lock exec contender's).
	envAddr = helperproc.ParamPrefix + "ETCDTEST_VERIFIER"
	envID   = helperproc.ParamPrefix + "ETCDTEST_ID"
)

func TestMain(m *testing.M) {
	helperproc.Main(helperproc.Roles{
		verifier.ContenderRole: verifier.Contend, // the command tguard lock exec runs
		"loop":                 loop,
		"holder":               holder,
	})
	var err error
	if testBin, err = os.Executable(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	testbin.Main(m, &tguardBin, testbin.Tags("failpoints"))
}

func envDur(name string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(os.Getenv(name)); err == nil {
		return d
	}
	return def
}

// locker is the etcd Locker of a helper.
func locker(owner string) (*lock.Locker, error) {
	var opts []lock.Option
	if d := envDur(envStall, 0); d > 0 {
		opts = append(opts, lock.WithStallTimeout(d))
	}
	return lock.New(os.TempDir(), append(opts, lock.WithEtcd(strings.Split(os.Getenv(envEndpoints), ",")...),
		lock.WithEtcdKey(os.Getenv(envKey)), lock.WithOwner(owner),
		lock.WithLeaseDuration(envDur(envLease, 2*time.Second)),
		// Warnings (failed renewals) go to the output the tests show.
		lock.WithLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))))...)
}

// loop is a verifier contender that takes the lease many times in one
// process: acquire, report "acquired" with the token, hold 0–2 ms, check
// the lease is still valid, report "released", release. With envNoLock it
// reports without taking anything (the control: the verifier must object).
func loop() error {
	id := os.Getenv(envID)
	c, err := verifier.Dial(os.Getenv(envAddr))
	if err != nil {
		return err
	}
	defer c.Close()
	cycles, _ := strconv.Atoi(os.Getenv(envCycles))
	end := time.Now().Add(envDur(envFor, 0))
	more := func(i int) bool { return (cycles > 0 && i < cycles) || (cycles == 0 && time.Now().Before(end)) }
	hold := func() { time.Sleep(rand.N(2 * time.Millisecond)) }
	if os.Getenv(envNoLock) == "1" {
		for i := 0; more(i); i++ {
			tok := uint64(i + 1)
			if err := c.Acquired(id, tok); err != nil {
				return err
			}
			hold()
			if err := c.Released(id, tok); err != nil {
				return err
			}
		}
		return nil
	}
	l, err := locker(id)
	if err != nil {
		return err
	}
	defer l.Close()
	ctx := context.Background()
	for i := 0; more(i); i++ {
		lease, err := l.Acquire(ctx)
		if err != nil {
			return fmt.Errorf("cycle %d: %w", i, err)
		}
		if err := c.Acquired(id, lease.Token()); err != nil {
			return err
		}
		hold()
		if err := lease.Check(); err != nil {
			return fmt.Errorf("cycle %d, token %d: %w", i, lease.Token(), err)
		}
		if err := c.Released(id, lease.Token()); err != nil {
			return err
		}
		if err := lease.Release(ctx); err != nil {
			return fmt.Errorf("cycle %d, token %d: release: %w", i, lease.Token(), err)
		}
	}
	return nil
}

// holder takes the lease once and "commits" every 20 ms as the indexer
// does: Lease.Confirm (a transaction guarded by the mutex's ownership),
// then the write, here a line on stdout. It prints
//
//	granted <token> <unix ns>
//	commit <n> <unix ns>      (after each confirmed commit)
//	lost <unix ns> <error>    (the moment Lease.Done fires)
//
// and exits 3 once the lease is lost (with envStay it stays alive, as a
// stuck writer does). It runs until killed.
func holder() error {
	l, err := locker(fmt.Sprintf("holder-%d", os.Getpid()))
	if err != nil {
		return err
	}
	defer l.Close()
	lease, err := l.Acquire(context.Background())
	if err != nil {
		return err
	}
	fmt.Printf("granted %d %d\n", lease.Token(), time.Now().UnixNano())
	// mu orders the lines: a commit is printed only while the lease is
	// valid, and never after "lost".
	var mu sync.Mutex
	lost := make(chan struct{})
	go func() {
		<-lease.Done()
		mu.Lock()
		fmt.Printf("lost %d %v\n", time.Now().UnixNano(), lease.Err())
		mu.Unlock()
		if os.Getenv(envStay) == "1" {
			select {} // alive, as a stuck writer is
		}
		close(lost)
	}()
	for n := 1; ; n++ {
		if err := lease.Confirm(lease.Context()); err != nil {
			<-lost
			os.Exit(3)
		}
		mu.Lock()
		if lease.Check() == nil {
			fmt.Printf("commit %d %d\n", n, time.Now().UnixNano())
		}
		mu.Unlock()
		select {
		case <-lost:
			os.Exit(3)
		case <-time.After(20 * time.Millisecond):
		}
	}
}
