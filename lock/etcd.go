package lock

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// etcdBackend keeps the lease in etcd. Under the prefix tguard/<key>/:
//
//	lock/<lease id>    the mutex of etcd's concurrency package: one key per
//	                   contender's session, the lowest create revision holds
//	holder/<lease id>  the holder's record (ownerRecord), attached to its
//	                   session, written with its grant
//	token              the last token granted (decimal), never deleted
//
// Expiry is etcd's: a holder's keys go when its session's lease is not
// kept alive for the TTL, judged by the cluster's leader, never by a waiter.
type etcdBackend struct {
	cli     *clientv3.Client
	ownCli  bool // made by WithEtcd: closed by Close
	prefix  string
	log     *slog.Logger
	clock   Clock
	floor   func(context.Context) (uint64, error)
	session *concurrency.Session // kept between attempts of one waiter
	lastRev int64                // revision of the latest reading, for Wait
}

func newEtcdBackend(dir string, cfg *config) (*etcdBackend, error) {
	key := cfg.etcd.key
	if key == "" {
		var err error
		if key, err = etcdKeyFor(dir); err != nil {
			return nil, err
		}
	}
	b := &etcdBackend{cli: cfg.etcd.client, prefix: "tguard/" + strings.TrimPrefix(key, "/") + "/",
		log: cfg.log, clock: cfg.clock, floor: cfg.floor}
	if b.cli == nil {
		cli, err := newEtcdClient(cfg.etcd.endpoints)
		if err != nil {
			return nil, err
		}
		b.cli, b.ownCli = cli, true
	}
	return b, nil
}

// mutexPrefix is the concurrency mutex's prefix; it adds the "/" itself.
func (b *etcdBackend) mutexPrefix() string { return b.prefix + "lock" }
func (b *etcdBackend) lockPrefix() string  { return b.mutexPrefix() + "/" }
func (b *etcdBackend) holderKey(id clientv3.LeaseID) string {
	return fmt.Sprintf("%sholder/%x", b.prefix, int64(id))
}
func (b *etcdBackend) tokenKey() string { return b.prefix + "token" }

// errEtcdUnavailable wraps a failure to reach a quorum: Acquire retries it,
// a renewal keeps the lease only until its deadline.
var errEtcdUnavailable = errors.New("etcd cluster not reachable")

// opTimeout bounds one request: a cluster that does not answer within it
// is unreachable for this attempt.
func opTimeout(lease time.Duration) time.Duration {
	return min(max(lease/2, time.Second), 10*time.Second)
}

// etcdErr classifies err: lost quorum and timeouts become
// errEtcdUnavailable, everything else is returned as is (bad endpoints,
// permission denied: waiting would not mend them).
func etcdErr(what string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, rpctypes.ErrTimeout) ||
		errors.Is(err, rpctypes.ErrNoLeader) || errors.Is(err, rpctypes.ErrTimeoutDueToLeaderFail) ||
		errors.Is(err, rpctypes.ErrTimeoutDueToConnectionLost) || errors.Is(err, rpctypes.ErrLeaderChanged) {
		return fmt.Errorf("lock: etcd %s: %w: %w", what, errEtcdUnavailable, err)
	}
	switch st := status.Convert(err); st.Code() {
	case codes.Unavailable, codes.DeadlineExceeded, codes.Aborted, codes.ResourceExhausted:
		return fmt.Errorf("lock: etcd %s: %w: %w", what, errEtcdUnavailable, err)
	case codes.Unknown:
		// A member that timed out waiting for the leader (a read index
		// during an election) reports its own context's deadline so.
		if strings.Contains(st.Message(), context.DeadlineExceeded.Error()) {
			return fmt.Errorf("lock: etcd %s: %w: %w", what, errEtcdUnavailable, err)
		}
	}
	return fmt.Errorf("lock: etcd %s: %w", what, err)
}

// ttlSeconds is the session TTL for lease: whole seconds, rounded up, so
// the cluster never ends a session before its holder's deadline.
func ttlSeconds(lease time.Duration) int64 { return int64((lease + time.Second - 1) / time.Second) }

func (b *etcdBackend) Attempt(ctx context.Context, id Identity, lease time.Duration) (Grant, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	opctx, cancel := context.WithTimeout(ctx, opTimeout(lease))
	defer cancel()
	s, err := b.ensureSession(opctx, lease)
	if err != nil {
		return nil, err
	}
	m := concurrency.NewMutex(s, b.mutexPrefix())
	err = m.TryLock(opctx)
	if errors.Is(err, concurrency.ErrLocked) {
		held, rev, serr := b.status(opctx)
		if serr != nil {
			return nil, serr
		}
		b.lastRev = rev
		if held.Dead {
			// A holder of this very boot of this host whose process is gone:
			// end its session now instead of waiting out its TTL.
			if _, err := b.cli.Revoke(opctx, held.leaseID); err == nil {
				b.log.Info("lock: ended the lease of a dead holder", "token", held.Token, "owner", held.Owner, "pid", held.PID)
			}
		}
		return nil, &HeldError{Holder: held.Status}
	}
	if err != nil {
		// Our key may or may not be in the queue: a key left there would
		// hold the lock for us, unknown to us, once its turn came. Ending
		// the session removes it.
		b.dropSession()
		return nil, etcdErr("lock", err)
	}
	g, err := b.grant(opctx, s, m, id, lease)
	if err != nil {
		b.dropSession()
		return nil, err
	}
	b.session = nil // the grant owns it now
	return g, nil
}

// ensureSession returns the waiter's session, making one when there is none
// or its lease ended.
func (b *etcdBackend) ensureSession(ctx context.Context, lease time.Duration) (*concurrency.Session, error) {
	if b.session != nil {
		select {
		case <-b.session.Done():
			b.dropSession()
		default:
			return b.session, nil
		}
	}
	ttl := ttlSeconds(lease)
	resp, err := b.cli.Grant(ctx, ttl)
	if err != nil {
		return nil, etcdErr("lease grant", err)
	}
	if resp.TTL < ttl {
		_, _ = b.cli.Revoke(ctx, resp.ID)
		return nil, fmt.Errorf("lock: etcd granted a TTL of %ds for a lease of %v", resp.TTL, lease)
	}
	// The session's keep-alive runs on its own context: the grant stops it
	// (Orphan) when the lease ends without a release, so that the cluster
	// ends the session a TTL later, as it does for a crashed holder.
	s, err := concurrency.NewSession(b.cli, concurrency.WithLease(resp.ID),
		concurrency.WithTTL(int(resp.TTL)), concurrency.WithContext(context.Background()))
	if err != nil {
		_, _ = b.cli.Revoke(ctx, resp.ID)
		return nil, etcdErr("session", err)
	}
	b.session = s
	return s, nil
}

// dropSession ends the waiter's session and with it every key it holds.
func (b *etcdBackend) dropSession() {
	if b.session == nil {
		return
	}
	s := b.session
	b.session = nil
	s.Orphan()
	if err := b.revoke(context.Background(), s.Lease()); err != nil {
		b.log.Warn("lock: ending the etcd session failed; it ends at its TTL", "error", err)
	}
}

// revokeBudget bounds the tries of revoke: long enough for one election.
const revokeBudget = 5 * time.Second

// revoke ends the session lease id, and with it every key attached to it.
// A revoke is idempotent, so it is retried while the cluster does not
// answer: an answer may have been lost with a member, and a try sent to a
// member that just died hangs until its connection is seen broken. If it
// never lands, the session ends at its TTL.
func (b *etcdBackend) revoke(ctx context.Context, id clientv3.LeaseID) error {
	ctx, cancel := context.WithTimeout(ctx, revokeBudget)
	defer cancel()
	for {
		actx, acancel := context.WithTimeout(ctx, rpcTimeout)
		_, err := b.cli.Revoke(actx, id)
		acancel()
		if err == nil || errors.Is(err, rpctypes.ErrLeaseNotFound) {
			// Not found: expired, broken, or an earlier try landed.
			return nil
		}
		if err = etcdErr("revoke", err); !errors.Is(err, errEtcdUnavailable) || ctx.Err() != nil {
			return err
		}
		b.log.Debug("lock: revoke failed, retrying", "error", err)
		pause(ctx)
	}
}

// grant turns the mutex this process now owns into a lease: the token is
// one above the higher of the last token granted in etcd and the floor
// (the index's committed token), written in one transaction guarded by the
// mutex's ownership and by the token key's revision, with the holder's
// record.
func (b *etcdBackend) grant(ctx context.Context, s *concurrency.Session, m *concurrency.Mutex, id Identity, lease time.Duration) (Grant, error) {
	giveBack := func() {
		c, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = m.Unlock(c)
	}
	// The session may be older than this attempt: one beat now moves the
	// cluster's expiry past the stamp the holder's deadline counts from.
	if ka, err := b.cli.KeepAliveOnce(ctx, s.Lease()); err != nil || ka.TTL <= 0 {
		giveBack()
		if err == nil {
			err = rpctypes.ErrLeaseNotFound
		}
		return nil, fmt.Errorf("lock: etcd: the session ended before its grant: %w", errors.Join(errViewChanged, etcdErr("keep-alive", err)))
	}
	var floor uint64
	if b.floor != nil {
		f, err := b.floor(ctx)
		if err != nil {
			giveBack()
			return nil, fmt.Errorf("lock: token floor: %w", err)
		}
		if f == math.MaxUint64 {
			giveBack()
			return nil, fmt.Errorf("lock: token floor %d: no token above it", f)
		}
		floor = f
	}
	tr, err := b.cli.Get(ctx, b.tokenKey())
	if err != nil {
		giveBack()
		return nil, etcdErr("reading the token", err)
	}
	var last uint64
	var modRev int64
	if len(tr.Kvs) == 1 {
		modRev = tr.Kvs[0].ModRevision
		if last, err = strconv.ParseUint(string(tr.Kvs[0].Value), 10, 64); err != nil {
			giveBack()
			return nil, fmt.Errorf("lock: etcd key %s holds %q, not a token", b.tokenKey(), tr.Kvs[0].Value)
		}
	}
	if last == math.MaxUint64 {
		giveBack()
		return nil, fmt.Errorf("lock: etcd token %d: no token above it", last)
	}
	token := max(last, floor) + 1
	rec, err := encodeRecord(ownerRecord{Version: recordVersion, Token: token, Identity: id,
		LeaseMS: durationMS(lease), AcquiredAt: b.clock.Now()})
	if err != nil {
		giveBack()
		return nil, err
	}
	resp, err := b.cli.Txn(ctx).
		If(m.IsOwner(), clientv3.Compare(clientv3.ModRevision(b.tokenKey()), "=", modRev)).
		Then(clientv3.OpPut(b.tokenKey(), strconv.FormatUint(token, 10)),
			clientv3.OpPut(b.holderKey(s.Lease()), string(rec), clientv3.WithLease(s.Lease()))).
		Commit()
	if err != nil {
		giveBack()
		return nil, etcdErr("granting", err)
	}
	if !resp.Succeeded {
		// Our key went (the session expired, or a break) or another grant
		// wrote the token: nothing was granted.
		giveBack()
		return nil, fmt.Errorf("lock: etcd: the grant of token %d lost its race: %w", token, errViewChanged)
	}
	return newEtcdGrant(b, s, m, token), nil
}

// Wait returns when the mutex's keys change after the latest reading, or
// after d.
func (b *etcdBackend) Wait(ctx context.Context, d time.Duration) error {
	wctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	opts := []clientv3.OpOption{clientv3.WithPrefix(), clientv3.WithFilterPut()}
	if b.lastRev > 0 {
		opts = append(opts, clientv3.WithRev(b.lastRev+1))
	}
	wch := b.cli.Watch(clientv3.WithRequireLeader(wctx), b.lockPrefix(), opts...)
	select {
	case <-wch:
	case <-wctx.Done():
	}
	return ctx.Err()
}

// etcdHolder is the status of a holder with what Break needs.
type etcdHolder struct {
	Status
	leaseID clientv3.LeaseID
}

func (b *etcdBackend) Status(ctx context.Context) (Status, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	h, _, err := b.status(ctx)
	return h.Status, err
}

// status reads the holder (the lock key with the lowest create revision),
// its record, the TTL left of its session and the last token, at one
// revision; and the revision.
func (b *etcdBackend) status(ctx context.Context) (etcdHolder, int64, error) {
	resp, err := b.cli.Txn(ctx).Then(
		clientv3.OpGet(b.lockPrefix(), append(clientv3.WithFirstCreate(), clientv3.WithPrefix())...),
		clientv3.OpGet(b.tokenKey()),
	).Commit()
	if err != nil {
		return etcdHolder{}, 0, etcdErr("status", err)
	}
	var h etcdHolder
	h.State = "free"
	if kvs := resp.Responses[1].GetResponseRange().Kvs; len(kvs) == 1 {
		h.Token, _ = strconv.ParseUint(string(kvs[0].Value), 10, 64)
	}
	kvs := resp.Responses[0].GetResponseRange().Kvs
	if len(kvs) == 0 {
		return h, resp.Header.Revision, nil
	}
	owner := kvs[0]
	h.Held, h.State, h.leaseID = true, "held", clientv3.LeaseID(owner.Lease)
	b.readHolder(ctx, &h, owner)
	return h, resp.Header.Revision, nil
}

// readHolder fills h from the holder's record and its session's TTL.
func (b *etcdBackend) readHolder(ctx context.Context, h *etcdHolder, owner *mvccpb.KeyValue) {
	rr, err := b.cli.Get(ctx, b.holderKey(h.leaseID))
	switch {
	case err != nil:
		h.State, h.RecordError = "unknown", err.Error()
	case len(rr.Kvs) == 0:
		// Between a TryLock and its grant, or a client that is not tguard.
		h.State, h.RecordError = "unknown", "no holder record for "+string(owner.Key)
	default:
		rec, err := parseRecord(rr.Kvs[0].Value)
		if err != nil {
			h.State, h.RecordError = "unknown", err.Error()
			break
		}
		h.Owner, h.Hostname, h.PID, h.Token = rec.Owner, rec.Hostname, rec.PID, rec.Token
		h.AcquiredAt, h.LeaseTime = rec.AcquiredAt, rec.lease()
		self, _ := selfIdentity("")
		h.Dead = judgeHolder(rec, self) == fateDead
	}
	if ttl, err := b.cli.TimeToLive(ctx, h.leaseID); err == nil && ttl.TTL > 0 {
		h.ExpiresIn = time.Duration(ttl.TTL) * time.Second
	}
}

// Break revokes the holder's session: its keys go at once, its keep-alive
// learns it at its next beat, and its Lease ends (Done).
func (b *etcdBackend) Break(ctx context.Context, force bool) (Status, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	h, _, err := b.status(ctx)
	if err != nil || !h.Held {
		return h.Status, err
	}
	if !h.Dead {
		if !force {
			return h.Status, fmt.Errorf("%w: %s on %s (pid %d); use force to break it anyway",
				ErrNotProvablyDead, h.Owner, h.Hostname, h.PID)
		}
		b.log.Warn("lock: breaking a lease whose holder may be alive: it may still write until its deadline; fencing refuses its commits",
			"token", h.Token, "owner", h.Owner)
	}
	if _, err := b.cli.Revoke(ctx, h.leaseID); err != nil && !errors.Is(err, rpctypes.ErrLeaseNotFound) {
		return h.Status, etcdErr("revoking the holder's session", err)
	}
	return h.Status, nil
}

func (b *etcdBackend) Close() error {
	b.dropSession()
	if b.ownCli {
		return b.cli.Close()
	}
	return nil
}
