package lock

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
)

// etcdGrant is a mutex this process owns, with its session.
type etcdGrant struct {
	b     *etcdBackend
	s     *concurrency.Session
	m     *concurrency.Mutex
	token uint64

	mu       sync.Mutex
	released bool          // Release began: the session's end is ours
	lost     chan struct{} // closed when the session ended without Release
	stop     chan struct{} // closed by leaseEnded
	stopOnce sync.Once
}

func newEtcdGrant(b *etcdBackend, s *concurrency.Session, m *concurrency.Mutex, token uint64) *etcdGrant {
	g := &etcdGrant{b: b, s: s, m: m, token: token, lost: make(chan struct{}), stop: make(chan struct{})}
	go g.watchSession()
	return g
}

// watchSession closes lost when the session ends (its lease expired or was
// revoked: the keep-alive channel closed) unless we released it.
func (g *etcdGrant) watchSession() {
	select {
	case <-g.s.Done():
	case <-g.stop:
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.released {
		close(g.lost)
	}
}

func (g *etcdGrant) Token() uint64 { return g.token }

// sessionLost is what Lease watches: see Lease's watchdog.
func (g *etcdGrant) sessionLost() <-chan struct{} { return g.lost }

// leaseEnded is called once the Lease ended, lost or released. A lease that
// ended without a release (deadline passed, stalled) stops its keep-alive:
// the cluster then ends the session a TTL after the last beat, so that
// others take over as from a crashed holder, while this process's writes
// are already refused by its own deadline.
func (g *etcdGrant) leaseEnded() {
	g.stopOnce.Do(func() { close(g.stop) })
	g.mu.Lock()
	released := g.released
	g.mu.Unlock()
	if !released {
		go g.s.Orphan()
	}
}

// Renew keeps the session's lease alive once (stamped by the caller before
// the call, so the holder's deadline is never later than the cluster's
// expiry), then checks that our mutex key is still there: a break or an
// expiry removed it.
func (g *etcdGrant) Renew(ctx context.Context) error {
	actx, cancel := context.WithTimeout(ctx, rpcTimeout)
	defer cancel()
	resp, err := g.b.cli.KeepAliveOnce(actx, g.s.Lease())
	switch {
	case errors.Is(err, rpctypes.ErrLeaseNotFound):
		return fmt.Errorf("%w: token %d: the etcd session ended", ErrLeaseLost, g.token)
	case err != nil:
		return etcdErr("keep-alive", err)
	case resp.TTL <= 0:
		return fmt.Errorf("%w: token %d: the etcd session ended", ErrLeaseLost, g.token)
	}
	return g.confirm(actx, "renewal")
}

// Confirm checks in one transaction, guarded by the mutex's ownership
// (IsOwner) and by the token key still holding our token, that this grant
// is the holder now. The indexer calls it right before a commit.
// One try is bounded by rpcTimeout; Lease.Confirm retries.
func (g *etcdGrant) Confirm(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, rpcTimeout)
	defer cancel()
	return g.confirm(ctx, "check")
}

func (g *etcdGrant) confirm(ctx context.Context, what string) error {
	// The Get is not decoration: etcd serves a transaction made only of
	// comparisons, or only of serializable reads, from the local state of
	// whichever member answers, which may lag the leader (a follower that
	// has not applied our own grant yet, or one cut off from the others).
	// A linearizable read in the transaction makes it go through the
	// leader's read index, so its comparisons see the latest state.
	resp, err := g.b.cli.Txn(ctx).
		If(g.m.IsOwner(), clientv3.Compare(clientv3.Value(g.b.tokenKey()), "=", strconv.FormatUint(g.token, 10))).
		Then(clientv3.OpGet(g.b.tokenKey())).
		Else(clientv3.OpGet(g.b.tokenKey())).
		Commit()
	if err != nil {
		return etcdErr(what, err)
	}
	if !resp.Succeeded {
		return fmt.Errorf("%w: token %d: no longer the owner of the etcd mutex", ErrLeaseLost, g.token)
	}
	return nil
}

// Release revokes the session: etcd deletes our mutex key and our holder
// record with it, in one step, and a waiter is granted at once. It touches
// nothing else, so never a successor's lease. A revoke is idempotent, so it
// is retried while the cluster does not answer (an answer may have been
// lost with a member); if it never lands, the session ends at its TTL.
func (g *etcdGrant) Release(ctx context.Context) error {
	g.mu.Lock()
	g.released = true
	g.mu.Unlock()
	g.stopOnce.Do(func() { close(g.stop) })
	g.s.Orphan()
	if err := g.b.revoke(ctx, g.s.Lease()); err != nil {
		return fmt.Errorf("lock: etcd release: %w", err)
	}
	return nil
}

// rpcTimeout bounds one try of a request that is retried: a request sent
// to a member that just died may hang until its connection is seen broken,
// and another member answers the next try.
const rpcTimeout = time.Second

// pause waits a little between tries.
func pause(ctx context.Context) {
	select {
	case <-ctx.Done():
	case <-time.After(50 * time.Millisecond):
	}
}
