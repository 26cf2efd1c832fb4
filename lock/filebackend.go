package lock

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
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

	// floor, if set, gives a token every grant must exceed (the index's
	// committed token): see WithTokenFloor.
	floor func(context.Context) (uint64, error)
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
		floor, err := b.tokenFloor(ctx)
		if err != nil {
			return nil, err
		}
		return b.grantNext(v, floor, id, lease)
	}
	if v.recErr == nil && judgeHolder(v.rec, id) == fateDead {
		floor, err := b.tokenFloor(ctx)
		if err != nil {
			return nil, err
		}
		if err := b.end(v, markerExpired); err != nil {
			return nil, err
		}
		b.log.Info("lock: ended the lease of a dead holder", "token", v.gen, "owner", v.rec.Owner, "pid", v.rec.PID)
		return b.grantNext(v, floor, id, lease)
	}
	now := time.Now()
	if !b.watching || b.watchKey != v.key() {
		b.watching, b.watchKey, b.watchSince = true, v.key(), now
	}
	// The holder may run with a longer lease than ours: wait for the longer.
	// Without its record, the declared durations bound it. The reading that
	// decides here is never the first one that showed this state (that one
	// started the watch), so its listing began after gen existed, and with
	// it the holder's lease-<ms>, made before gen.
	effective := v.holderLease(lease)
	if now.Sub(b.watchSince) < effective+safetyMargin(effective) {
		return nil, &HeldError{Holder: b.status(v, lease)}
	}
	floor, err := b.tokenFloor(ctx)
	if err != nil {
		return nil, err
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
	return b.grantNext(v, floor, id, lease)
}

// tokenFloor asks the floor function, if any, for the token the next grant
// must exceed. It is asked right before a grant, never while waiting.
func (b *fileBackend) tokenFloor(ctx context.Context) (uint64, error) {
	if b.floor == nil {
		return 0, nil
	}
	f, err := b.floor(ctx)
	if err != nil {
		return 0, fmt.Errorf("lock: token floor: %w", err)
	}
	if f == math.MaxUint64 {
		return 0, fmt.Errorf("lock: token floor %d: no token above it", f)
	}
	return f, nil
}

// grantNext grants the generation after v's, with a token above floor.
// Normally floor is at most v.gen (the index cannot have seen a token the
// lease folder never granted) and this is one grant. When the lease folder
// was lost or restored from an older copy, floor is higher: the generation
// after v's is still won first, by the mkdir every contender races for, and
// only while holding it is floor+1 made (see jump).
func (b *fileBackend) grantNext(v view, floor uint64, id Identity, lease time.Duration) (Grant, error) {
	g, err := b.grant(v.gen+1, id, lease)
	if err != nil || floor <= v.gen {
		return g, err
	}
	claim := g.(*fileGrant)
	b.log.Warn("lock: the index has seen a higher token than the lease folder: skipping ahead",
		"folder_token", v.gen, "index_token", floor)
	return b.jump(claim, floor+1, id, lease)
}

// jump makes generation g above claim, a generation this process was just
// granted, and then ends claim. Making a name far above the newest is not
// decided by any race: it is safe only because claim, the newest
// generation, is held by us meanwhile, so no one else makes a generation.
// That is checked twice: no generation between claim and g may exist when
// g is listed, and claim's next slot must still be ours to make after g
// exists (a waiter that ended claim made it first). Then claim is marked
// released; waiters see g as the newest.
func (b *fileBackend) jump(claim *fileGrant, g uint64, id Identity, lease time.Duration) (Grant, error) {
	giveBack := func(err error) (Grant, error) {
		_ = claim.Release(context.Background())
		return nil, err
	}
	rec, err := encodeRecord(ownerRecord{
		Version: recordVersion, Token: g, Identity: id,
		LeaseMS: durationMS(lease), AcquiredAt: b.clock.Now().UTC(),
	})
	if err != nil {
		return giveBack(err)
	}
	staged, err := b.stageRecord(rec)
	if err != nil {
		return giveBack(err)
	}
	defer func() {
		if staged != "" {
			_ = os.Remove(staged)
		}
	}()
	genDir := filepath.Join(b.root, numName(g))
	if err := os.Mkdir(genDir, 0o777); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return giveBack(b.raced(b.last, lease))
		}
		return giveBack(err)
	}
	gr := &fileGrant{b: b, genDir: genDir, token: g}
	fail := func(err error) (Grant, error) {
		_ = gr.Release(context.Background())
		return giveBack(vanished(err))
	}
	gens, err := listNumbers(b.root)
	if err != nil {
		return fail(err)
	}
	for _, n := range gens {
		if n > claim.token && n != g {
			return fail(b.raced(b.last, lease))
		}
	}
	if err := syncDir(b.root); err != nil {
		return fail(fmt.Errorf("lock: making token %d durable: %w", g, err))
	}
	if err := replaceFile(staged, filepath.Join(genDir, ownerFileName)); err != nil {
		return fail(fmt.Errorf("lock: writing owner record: %w", err))
	}
	staged = ""
	next := claim.slot + 1
	if err := claim.mkslot(next); err != nil {
		// claim was ended by someone else: g may lie above a successor.
		_ = gr.Release(context.Background())
		if errors.Is(err, ErrLeaseLost) {
			return nil, b.raced(b.last, lease)
		}
		return nil, fmt.Errorf("lock: ending token %d for token %d: %w", claim.token, g, err)
	}
	claim.slot = next
	if err := writeMarker(filepath.Join(claim.genDir, numName(next)), markerReleased); err != nil {
		b.log.Debug("lock: marking a skipped token released", "token", claim.token, "error", err)
	}
	b.watching = false
	b.collectOld(gens, g)
	return gr, nil
}

// declare makes lease-<ms> for lease unless the reading already showed it:
// before its grant, every contender has declared its lease duration, so a
// waiter that cannot read the holder's record still knows a bound of its
// lease. tguard never removes these folders.
func (b *fileBackend) declare(lease time.Duration) error {
	if b.last.declares(lease) {
		return nil // the hot path: no syscall
	}
	err := os.Mkdir(filepath.Join(b.root, leaseName(lease)), 0o777)
	if err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("lock: declaring lease duration %v: %w", lease, err)
	}
	return nil
}

// raced: another process changed the lease between our reading and our
// mkdir (errRaced in the model); the attempt is reported as held and the
// caller reads again.
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
	if err := os.Mkdir(slot, 0o777); err != nil {
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
		LeaseMS: durationMS(lease), AcquiredAt: b.clock.Now().UTC(),
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
	// Declared before the generation is made: whoever lists the
	// generation lists the declaration too.
	if err := b.declare(lease); err != nil {
		return nil, err
	}
	// Folders 0777 and files 0666, and the umask decides: another account
	// sharing the index must be able to take the lease.
	err = os.Mkdir(genDir, 0o777)
	if errors.Is(err, fs.ErrNotExist) {
		if err = os.MkdirAll(b.root, 0o777); err == nil {
			err = os.Mkdir(genDir, 0o777)
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
		return nil, vanished(err)
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
	b.collectOld(gens, g)
	return gr, nil
}

// collectOld removes the generations of gens below g−1: the previous one
// stays for people to read.
func (b *fileBackend) collectOld(gens []uint64, g uint64) {
	for _, old := range gens {
		if old+1 < g {
			if err := os.RemoveAll(filepath.Join(b.root, numName(old))); err != nil {
				b.log.Debug("lock: removing an old generation", "token", old, "error", err)
			}
		}
	}
}

// vanished turns an error saying that part of the lease folder was removed
// during a grant (someone deleted the folder) into errViewChanged: read
// again and retry.
func vanished(err error) error {
	if err != nil && errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: %v", errViewChanged, err)
	}
	return err
}

// stageRecord writes the owner record to a temporary file in the lease
// folder (not a number: no reader looks at it), creating the folder on
// first use.
func (b *fileBackend) stageRecord(rec []byte) (string, error) {
	prefix := filepath.Join(b.root, ownerFileName+".tmp-")
	path, err := stageFile(prefix, rec)
	if errors.Is(err, fs.ErrNotExist) {
		// First use of this folder: create the lease folder.
		if err := os.MkdirAll(b.root, 0o777); err != nil {
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
		s.LeaseTime = v.holderLease(lease)
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
	err := os.Mkdir(filepath.Join(g.genDir, numName(n)), 0o777)
	switch {
	case errors.Is(err, fs.ErrExist):
		return fmt.Errorf("%w: token %d was taken over (slot %d exists)", ErrLeaseLost, g.token, n)
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%w: token %d was removed", ErrLeaseLost, g.token)
	}
	return err
}
