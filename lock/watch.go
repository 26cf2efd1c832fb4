package lock

import (
	"context"
	"path/filepath"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
)

// watcher wakes a waiter when the lease folder changes on this host, so a
// release is seen at once instead of after a backoff. Changes made by other
// hosts of a share raise no event here; for those the timeout of Wait
// (the backoff) is the poll.
//
// Watches are added and removed by a goroutine of the watcher's own, never
// by Wait: on Windows, fsnotify's Add is served by the goroutine that
// delivers events, and under Wine that goroutine was seen stuck in
// GetFileInformationByHandle on a folder removed meanwhile. A stuck watcher
// then only costs wake-ups: Wait still returns after its timeout, and
// polling alone is correct.
type watcher struct {
	closeOnce sync.Once
	w         *fsnotify.Watcher
	want      chan []string // capacity 1: the newest paths to watch; closed by close
	changed   chan struct{} // capacity 1: an event came, or a watch was added, since Wait last took it
	// root is the lease folder. Its parent, the index folder, is watched
	// only to see root itself appear or go: the index's own files (every
	// segment file a holder writes) must not wake the waiters, or each
	// waiter re-reads the lease for every file the holder writes and
	// contended indexing slows down for nothing.
	root string
}

func newWatcher(root string) *watcher {
	if !notifyWorks() {
		return nil
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil // no notifications: polling alone is still correct
	}
	wt := &watcher{w: w, want: make(chan []string, 1), changed: make(chan struct{}, 1), root: filepath.Clean(root)}
	go wt.drain()
	go wt.manage()
	return wt
}

func (w *watcher) wake() {
	select {
	case w.changed <- struct{}{}:
	default:
	}
}

// drain reads fsnotify's channels all the time: an undelivered event would
// block fsnotify's Add on Windows. Events coalesce into one pending
// wake-up; a stale one only costs the waiter an extra read.
func (w *watcher) drain() {
	events, errs := w.w.Events, w.w.Errors
	for events != nil || errs != nil {
		select {
		case ev, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			if !w.relevant(ev.Name) {
				continue
			}
		case _, ok := <-errs:
			if !ok {
				errs = nil
				continue
			}
		}
		w.wake()
	}
}

// relevant reports whether an event on name can change what a waiter
// reads: anything in or under the lease folder, the lease folder itself,
// or the index folder itself (removed or renamed); not the index's other
// files.
func (w *watcher) relevant(name string) bool {
	name = filepath.Clean(name)
	parent := filepath.Dir(w.root)
	return name == parent || filepath.Dir(name) != parent || name == w.root
}

// manage watches exactly the paths last asked for (those that exist). A
// watch added wakes the waiter: a change made before the watch was added
// raised no event, so the waiter must read again.
func (w *watcher) manage() {
	defer w.w.Close()
	watched := map[string]bool{}
	for paths := range w.want {
		want := map[string]bool{}
		added := false
		for _, p := range paths {
			want[p] = true
			if !watched[p] && w.w.Add(p) == nil {
				watched[p] = true
				added = true
			}
		}
		for p := range watched {
			if !want[p] {
				_ = w.w.Remove(p)
				delete(watched, p)
			}
		}
		if added {
			w.wake()
		}
	}
}

// follow asks for exactly paths to be watched, replacing an earlier request
// not yet served. It never blocks.
func (w *watcher) follow(paths []string) {
	select {
	case <-w.want:
	default:
	}
	w.want <- paths
}

// close stops the watcher without waiting for it (see watcher).
func (w *watcher) close() error {
	w.closeOnce.Do(func() { close(w.want) })
	return nil
}

// Wait returns when the lease folder changes on this host, when a holder on
// this host exits, or after d.
func (b *fileBackend) Wait(ctx context.Context, d time.Duration) error {
	if b.watch == nil {
		b.watch = newWatcher(b.root)
	}
	var changed <-chan struct{}
	if b.watch != nil {
		paths := []string{filepath.Dir(b.root), b.root}
		if b.last.gen != 0 {
			gen := filepath.Join(b.root, numName(b.last.gen))
			paths = append(paths, gen)
			if b.last.slot != 0 {
				paths = append(paths, filepath.Join(gen, numName(b.last.slot)))
			}
		}
		b.watch.follow(paths)
		changed = b.watch.changed
	}
	var exited <-chan struct{}
	if v := b.last; v.live() && v.recErr == nil && judgeHolder(v.rec, b.self) == fateAlive {
		exited = watchExit(v.rec.PID, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
	case <-changed:
	case <-exited:
	}
	return nil
}
