package lock

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"
)

// fileBackend keeps the lease in a folder (see layout.go). It is safe on a
// local disk and on a network share whose clients make mkdir exclusive.
type fileBackend struct {
	root  string // the lease folder, inside the guarded folder
	log   *slog.Logger
	clock Clock

	// What this waiter has seen: the state it watches and since when, on
	// its own monotonic clock. Expiry is judged from nothing else.
	watching   bool
	watchKey   viewKey
	watchSince time.Time

	last  view // the latest reading, for Wait to know what to watch
	self  Identity
	watch *watcher
}

func newFileBackend(dir string, log *slog.Logger, clock Clock) *fileBackend {
	return &fileBackend{root: filepath.Join(dir, leaseDirName), log: log, clock: clock}
}

// safetyMargin separates the holder's deadline (lease − margin after its
// stamp) from a waiter's expiry (lease + margin after it first saw the
// record): the two clocks may drift apart by up to 2·margin over a lease.
func safetyMargin(lease time.Duration) time.Duration { return lease / 10 }

func (b *fileBackend) Attempt(ctx context.Context, id Identity, lease time.Duration) (Grant, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b.self = id
	v, err := readViewSettled(b.root)
	if err != nil {
		return nil, err
	}
	b.last = v
	if !v.live() {
		return b.grant(v.gen+1, id, lease)
	}
	if v.recErr == nil && judgeHolder(v.rec, id) == fateDead {
		if err := b.end(v, markerExpired); err != nil {
			return nil, err
		}
		b.log.Info("lock: ended the lease of a dead holder", "token", v.gen, "owner", v.rec.Owner, "pid", v.rec.PID)
		return b.grant(v.gen+1, id, lease)
	}
	now := time.Now()
	if !b.watching || b.watchKey != v.key() {
		b.watching, b.watchKey, b.watchSince = true, v.key(), now
	}
	// The holder may run with a longer lease than ours: wait for the longer.
	effective := lease
	if v.recErr == nil && v.rec.lease() > effective {
		effective = v.rec.lease()
	}
	if now.Sub(b.watchSince) < effective+safetyMargin(effective) {
		return nil, &HeldError{Holder: b.status(v, lease)}
	}
	// Several waiters may get here at once; the mkdir in end picks one.
	if err := b.end(v, markerExpired); err != nil {
		return nil, err
	}
	if v.recErr != nil {
		b.log.Warn("lock: ended an unreadable lease record that stayed unchanged for a whole lease",
			"token", v.gen, "error", v.recErr)
	} else {
		b.log.Info("lock: ended an expired lease", "token", v.gen, "owner", v.rec.Owner)
	}
	return b.grant(v.gen+1, id, lease)
}

// errRaced means another process changed the lease between our reading and
// our mkdir; the attempt is reported as held and the caller reads again.
var errRaced = errors.New("lease changed while taking it")

func (b *fileBackend) raced(v view, lease time.Duration) error {
	b.watching = false
	return &HeldError{Holder: b.status(v, lease)}
}

// end takes the slot after v's last one, so that v's holder can never renew
// again, and marks it with why the generation ended. It succeeds only if
// this process made that slot and it is the newest slot: a stale reading
// makes the mkdir fail (the slot exists) or, if the name had been removed
// by garbage collection, leaves a newer slot in the listing.
func (b *fileBackend) end(v view, marker string) error {
	genDir := filepath.Join(b.root, numName(v.gen))
	slot := filepath.Join(genDir, numName(v.slot+1))
	if err := os.Mkdir(slot, 0o755); err != nil {
		if errors.Is(err, fs.ErrExist) || errors.Is(err, fs.ErrNotExist) {
			return b.raced(v, 0)
		}
		return err
	}
	// A slot we made is never removed, even when it proves nothing: a name
	// made twice would look unchanged to a waiter that saw the first one,
	// and it would end the second one's lease early. Left here, it either
	// lies below the holder's newest slot (harmless), or it is the newest
	// and ends the holder without a marker (waiters then see it unchanged
	// for a lease, and go on).
	slots, err := listNumbers(genDir)
	if err != nil {
		return err
	}
	if maxNumber(slots) != v.slot+1 {
		return b.raced(v, 0)
	}
	if err := writeMarker(slot, marker); err != nil {
		// The slot is ours and ends the holder all the same; others without
		// the marker see a renewal and will wait for it to expire.
		b.log.Warn("lock: cannot write end marker", "slot", slot, "error", err)
	}
	return nil
}

// grant makes generation g: the grant itself is the mkdir.
func (b *fileBackend) grant(g uint64, id Identity, lease time.Duration) (Grant, error) {
	genDir := filepath.Join(b.root, numName(g))
	// The owner record is written before the mkdir and renamed into the
	// generation after it. A full disk then fails the attempt before
	// anything is granted; written after the mkdir, it would leave a
	// generation without a record, which every waiter must wait out.
	rec, err := encodeRecord(ownerRecord{
		Version: recordVersion, Token: g, Identity: id,
		LeaseMS: lease.Milliseconds(), AcquiredAt: b.clock.Now().UTC(),
	})
	if err != nil {
		return nil, err
	}
	staged, err := b.stageRecord(rec)
	if err != nil {
		return nil, err
	}
	defer func() {
		if staged != "" {
			_ = os.Remove(staged)
		}
	}()
	err = os.Mkdir(genDir, 0o755)
	if errors.Is(err, fs.ErrNotExist) {
		if err = os.MkdirAll(b.root, 0o755); err == nil {
			err = os.Mkdir(genDir, 0o755)
		}
	}
	if errors.Is(err, fs.ErrExist) {
		return nil, b.raced(b.last, lease)
	}
	if err != nil {
		return nil, err
	}
	gr := &fileGrant{b: b, genDir: genDir, token: g}
	// A generation we made is given back by releasing it, never removed: a
	// name made twice would look unchanged to a waiter that saw the first.
	fail := func(err error) (Grant, error) {
		_ = gr.Release(context.Background())
		return nil, err
	}
	gens, err := listNumbers(b.root)
	if err != nil {
		return fail(err)
	}
	if maxNumber(gens) != g {
		// A stale reading led us to re-make a generation that garbage
		// collection had removed: a newer one exists. Ours grants nothing.
		_, _ = fail(nil)
		return nil, b.raced(b.last, lease)
	}
	if err := syncDir(b.root); err != nil {
		return fail(fmt.Errorf("lock: making token %d durable: %w", g, err))
	}
	if err := replaceFile(staged, filepath.Join(genDir, ownerFileName)); err != nil {
		return fail(fmt.Errorf("lock: writing owner record: %w", err))
	}
	staged = ""
	b.watching = false
	// Keep the previous generation for people to read; older ones go.
	for _, old := range gens {
		if old+1 < g {
			if err := os.RemoveAll(filepath.Join(b.root, numName(old))); err != nil {
				b.log.Debug("lock: removing an old generation", "token", old, "error", err)
			}
		}
	}
	return gr, nil
}

// stageRecord writes the owner record to a temporary file in the lease
// folder (not a number: no reader looks at it), creating the folder on
// first use.
func (b *fileBackend) stageRecord(rec []byte) (string, error) {
	prefix := filepath.Join(b.root, ownerFileName+".tmp-")
	path, err := stageFile(prefix, rec)
	if errors.Is(err, fs.ErrNotExist) {
		// First use of this folder: create the lease folder.
		if err := os.MkdirAll(b.root, 0o755); err != nil {
			return "", err
		}
		path, err = stageFile(prefix, rec)
	}
	if err != nil {
		return "", fmt.Errorf("lock: writing owner record: %w", err)
	}
	return path, nil
}

func (b *fileBackend) Status(ctx context.Context) (Status, error) {
	if err := ctx.Err(); err != nil {
		return Status{}, err
	}
	v, err := readViewSettled(b.root)
	if err != nil {
		return Status{}, err
	}
	return b.status(v, 0), nil
}

// status describes v for people. lease is the reader's own lease duration,
// used for the estimate when the record cannot be read.
func (b *fileBackend) status(v view, lease time.Duration) Status {
	s := Status{Token: v.gen, State: "free"}
	if v.gen == 0 {
		return s
	}
	if v.recErr == nil {
		s.Owner, s.Hostname, s.PID = v.rec.Owner, v.rec.Hostname, v.rec.PID
		s.AcquiredAt, s.LeaseTime = v.rec.AcquiredAt, v.rec.lease()
	} else {
		s.LeaseTime = lease
		s.RecordError = v.recErr.Error()
	}
	switch {
	case v.marker != "":
		s.State = v.marker
		return s
	case v.recErr != nil:
		s.State = "unknown"
	default:
		s.State = "held"
		self := b.self
		if self.Hostname == "" {
			self, _ = selfIdentity("")
		}
		s.Dead = judgeHolder(v.rec, self) == fateDead
	}
	s.Held = true
	if !v.seenAt.IsZero() && s.LeaseTime > 0 {
		s.ExpiresIn = max(0, s.LeaseTime-b.clock.Now().Sub(v.seenAt))
	}
	return s
}

func (b *fileBackend) Break(ctx context.Context, force bool) (Status, error) {
	if err := ctx.Err(); err != nil {
		return Status{}, err
	}
	v, err := readViewSettled(b.root)
	if err != nil {
		return Status{}, err
	}
	s := b.status(v, 0)
	if !v.live() {
		return s, nil
	}
	marker := markerExpired
	if !s.Dead {
		if !force {
			return s, fmt.Errorf("%w: %s on %s (pid %d); use force to break it anyway",
				ErrNotProvablyDead, s.Owner, s.Hostname, s.PID)
		}
		marker = markerBroken
		b.log.Warn("lock: breaking a lease whose holder may be alive: it may still write until its deadline; fencing refuses its commits",
			"token", v.gen, "owner", s.Owner)
	}
	if err := b.end(v, marker); err != nil {
		return s, err
	}
	return b.status(v, 0), nil
}

func (b *fileBackend) Close() error {
	if b.watch != nil {
		return b.watch.close()
	}
	return nil
}

// fileGrant is one generation held by this process.
type fileGrant struct {
	b      *fileBackend
	genDir string
	token  uint64
	slot   uint64 // our newest slot, 0 before the first renewal
}

func (g *fileGrant) Token() uint64 { return g.token }

// Renew makes the next slot. If it exists already a waiter ended our
// generation after it stayed unchanged for a whole lease: the lease is lost.
func (g *fileGrant) Renew(context.Context) error {
	next := g.slot + 1
	if err := g.mkslot(next); err != nil {
		return err
	}
	g.slot = next
	if next > 2 {
		// Keep the two newest slots; older ones only grow the folder.
		_ = os.Remove(filepath.Join(g.genDir, numName(next-2)))
	}
	return nil
}

// Release makes the next slot and marks it released. It only ever writes in
// our own generation, so it cannot touch a successor's lease.
func (g *fileGrant) Release(context.Context) error {
	next := g.slot + 1
	if err := g.mkslot(next); err != nil {
		return err
	}
	g.slot = next
	return writeMarker(filepath.Join(g.genDir, numName(next)), markerReleased)
}

func (g *fileGrant) mkslot(n uint64) error {
	err := os.Mkdir(filepath.Join(g.genDir, numName(n)), 0o755)
	switch {
	case errors.Is(err, fs.ErrExist):
		return fmt.Errorf("%w: token %d was taken over (slot %d exists)", ErrLeaseLost, g.token, n)
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%w: token %d was removed", ErrLeaseLost, g.token)
	}
	return err
}
