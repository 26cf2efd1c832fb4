package lock

import (
	"context"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
)

// watcher wakes a waiter when the lease folder changes on this host, so a
// release is seen at once instead of after a backoff. Changes made by other
// hosts of a share raise no event here; for those the timeout of Wait
// (the backoff) is the poll.
type watcher struct {
	w       *fsnotify.Watcher
	watched map[string]bool
	changed chan struct{} // capacity 1: an event or error came since Wait last took it
}

func newWatcher() *watcher {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil // no notifications: polling alone is still correct
	}
	wt := &watcher{w: w, watched: map[string]bool{}, changed: make(chan struct{}, 1)}
	go wt.drain()
	return wt
}

// drain reads fsnotify's channels all the time, not only inside Wait: on
// Windows, Add and Remove are served by the goroutine that delivers events,
// so an undelivered event would block follow's Add for ever (it did, under
// Wine). Events coalesce into one pending wake-up; a stale one only costs
// the waiter an extra read.
func (w *watcher) drain() {
	events, errs := w.w.Events, w.w.Errors
	for events != nil || errs != nil {
		select {
		case _, ok := <-events:
			if !ok {
				events = nil
				continue
			}
		case _, ok := <-errs:
			if !ok {
				errs = nil
				continue
			}
		}
		select {
		case w.changed <- struct{}{}:
		default:
		}
	}
}

// follow watches exactly paths (those that exist). It reports whether it
// added a watch: a change made before the watch was added raised no event,
// so the caller must read again before it waits.
func (w *watcher) follow(paths []string) (added bool) {
	want := map[string]bool{}
	for _, p := range paths {
		want[p] = true
		if !w.watched[p] && w.w.Add(p) == nil {
			w.watched[p] = true
			added = true
		}
	}
	for p := range w.watched {
		if !want[p] {
			_ = w.w.Remove(p)
			delete(w.watched, p)
		}
	}
	return added
}

func (w *watcher) close() error { return w.w.Close() }

// Wait returns when the lease folder changes on this host, when a holder on
// this host exits, or after d.
func (b *fileBackend) Wait(ctx context.Context, d time.Duration) error {
	if b.watch == nil {
		b.watch = newWatcher()
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
		if b.watch.follow(paths) {
			return ctx.Err()
		}
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
