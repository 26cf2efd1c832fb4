package indexer

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/tguard/tguard/indexer/internal/walk"
	"github.com/tguard/tguard/lock"
)

// Defaults of the writer.
const (
	DefaultMemoryBudget = 128 << 20
	minBytesPerThread   = 15_000_000 // Tantivy's own minimum
	// DefaultStallTimeout: a writer that shows no progress for this long
	// (no document, delete or byte written, no batch from the journal)
	// stops renewing its lease. Tantivy's longest silent step is applying
	// the deletes of a commit, which reads segments without writing; two
	// minutes leaves room for large indexes on slow shares.
	DefaultStallTimeout = 2 * time.Minute
)

type config struct {
	memory    uint64
	threads   int
	batchDocs int
	schema    string
	log       *slog.Logger
	lockOpts  []lock.Option
	journal   string // WithJournal; "" for the default journal
	fp        failpoint
	progress  func(applied int)
	stall     time.Duration
	noWait    bool              // acquire.go
	onWait    func(lock.Status) // acquire.go
	interrupt <-chan struct{}   // acquire.go
	svc       serviceConfig     // service.go
	walk      walkConfig        // AddPaths
}

// walkConfig says how AddPaths turns files into documents.
type walkConfig struct {
	root    string // canonical
	maxSize int64
	prune   bool
	onSkip  func(Skip)
	onFile  func(path string)
}

// Option configures an Indexer; New validates them.
type Option func(*config) error

// WithMemoryBudget sets the Tantivy writer's memory budget in bytes.
func WithMemoryBudget(bytes uint64) Option {
	return func(c *config) error {
		if bytes < minBytesPerThread {
			return fmt.Errorf("indexer: memory budget %d: at least %d bytes per thread", bytes, minBytesPerThread)
		}
		c.memory = bytes
		return nil
	}
}

// WithThreads sets the writer's indexing threads (0: Tantivy's choice).
func WithThreads(n int) Option {
	return func(c *config) error {
		if n < 0 {
			return fmt.Errorf("indexer: %d threads", n)
		}
		c.threads = n
		return nil
	}
}

// WithBatch sets how many journal entries go into the index per call.
func WithBatch(n int) Option {
	return func(c *config) error {
		if n < 1 {
			return fmt.Errorf("indexer: batch %d: must be at least 1", n)
		}
		c.batchDocs = n
		return nil
	}
}

// WithSchema sets the schema (JSON) of an index this creates.
func WithSchema(json string) Option {
	return func(c *config) error { c.schema = json; return nil }
}

// WithLogger sends logs to l (silent by default).
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			return errors.New("indexer: nil logger")
		}
		c.log = l
		return nil
	}
}

// WithLockOptions passes options to the lease lock.
func WithLockOptions(opts ...lock.Option) Option {
	return func(c *config) error { c.lockOpts = append(c.lockOpts, opts...); return nil }
}

// WithProgress calls fn with the number of entries applied so far, after
// each batch.
func WithProgress(fn func(applied int)) Option {
	return func(c *config) error { c.progress = fn; return nil }
}

// WithStallTimeout sets how long the writer may show no progress before its
// lease stops being renewed (default DefaultStallTimeout; 0 turns the
// check off). The lease then ends at its deadline, the writer is refused,
// and other hosts take over after expiry instead of waiting for ever
// behind a writer stuck inside Tantivy.
func WithStallTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return fmt.Errorf("indexer: stall timeout %v: must not be negative", d)
		}
		c.stall = d
		return nil
	}
}

// WithJournal sets the journal's file (on a local disk; created if
// missing). Without it New opens the default journal of the index and the
// lease owner (DefaultJournalPath).
func WithJournal(path string) Option {
	return func(c *config) error {
		if path == "" {
			return errors.New("indexer: empty journal path")
		}
		c.journal = path
		return nil
	}
}

// WithRoot makes AddPaths give files ids relative to the folder root
// ("/sub/file.txt", "/" as the separator on every OS): hosts that mount
// one share at different places then give a file the same id.
func WithRoot(root string) Option {
	return func(c *config) error {
		r, err := walk.CanonicalRoot(root)
		if err != nil {
			return err
		}
		c.walk.root = r
		return nil
	}
}

// WithMaxFileSize sets the largest text file AddPaths indexes as one
// document (default DefaultMaxFileSize); larger ones are skipped.
func WithMaxFileSize(bytes int64) Option {
	return func(c *config) error { c.walk.maxSize = bytes; return nil }
}

// WithPrune makes AddPaths also journal the deletion of the documents of
// files under each given folder that no longer exist.
func WithPrune() Option {
	return func(c *config) error { c.walk.prune = true; return nil }
}

// WithOnSkip calls fn with each file or line AddPaths skips, and why.
func WithOnSkip(fn func(Skip)) Option {
	return func(c *config) error { c.walk.onSkip = fn; return nil }
}

// WithOnFile calls fn with each regular file AddPaths sees (its canonical
// path), before it is checked: progress for people.
func WithOnFile(fn func(path string)) Option {
	return func(c *config) error { c.walk.onFile = fn; return nil }
}
