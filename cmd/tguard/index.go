package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/tguard/tguard/bridge"
	"github.com/tguard/tguard/indexer"
	"github.com/tguard/tguard/lock"
)

type indexFlags struct {
	dir     string
	asJSON  bool
	memory  uint64
	threads int
	maxSize int64
	batch   int
	schema  string
	journal string
	prune   bool
	lease   leaseFlags
}

func (f *indexFlags) addWriterFlags(c *cobra.Command) {
	c.Flags().StringVar(&f.dir, "index", "", "index folder (created if missing)")
	c.Flags().BoolVar(&f.asJSON, "json", false, "print one JSON summary object")
	c.Flags().Uint64Var(&f.memory, "memory", indexer.DefaultMemoryBudget, "writer memory budget in bytes (at least 15,000,000 per thread)")
	c.Flags().IntVar(&f.threads, "threads", 0, "indexing threads (0: Tantivy's choice)")
	c.Flags().IntVar(&f.batch, "batch", indexer.DefaultBatchDocs, "documents per call into the index")
	c.Flags().StringVar(&f.journal, "journal", "", "journal file on a local disk (default: per-user state folder, keyed by index and owner)")
	f.lease.add(c)
}

func newIndexCmd(g *globals) *cobra.Command {
	f := &indexFlags{}
	c := &cobra.Command{
		Use:   "index --index DIR [--owner ID] [--lease DUR] [--wait DUR] [--journal FILE] [--batch N] [--prune] [--json] PATH...",
		Short: "Journal files, folders and JSON-lines files, then apply them under the lease",
		Long: `Index text files (one document each, keyed by absolute path; binary, non-UTF-8
and oversized files are skipped with a warning) and *.jsonl files (one
document per line, keyed by its "id"; bad lines are counted and named by file
and line, the others are indexed).

Every accepted file is first recorded in a local SQLite journal (a reference
to the file: path, size, times, inode; its content is copied in only if the
run ends without committing); then the lease is acquired, the journal
applied, committed with the lease's fencing token, and the lease released.
Files unchanged since the journal last recorded them are skipped, so
indexing an unchanged folder commits nothing. Not acquired within --wait: exit 75, and the
documents stay journaled for the next run of the same owner, or for
"tguard flush". With --prune, documents under a given folder whose files are
gone are deleted. The index is created if missing.`,
		Args: minArgs(1, "at least one PATH"),
		RunE: func(cmd *cobra.Command, paths []string) error {
			if err := requireIndex(f.dir); err != nil {
				return err
			}
			return runIndex(cmd.Context(), g, f, paths)
		},
	}
	f.addWriterFlags(c)
	c.Flags().Int64Var(&f.maxSize, "max-size", indexer.DefaultMaxFileSize, "skip text files larger than this many bytes")
	c.Flags().StringVar(&f.schema, "schema", "", "schema as JSON, for a new index (default: id, path, title, body, modified)")
	c.Flags().BoolVar(&f.prune, "prune", false, "delete documents of files under the given folders that no longer exist")
	return c
}

func newFlushCmd(g *globals) *cobra.Command {
	f := &indexFlags{}
	c := &cobra.Command{
		Use:   "flush --index DIR [--owner ID] [--lease DUR] [--wait DUR] [--journal FILE] [--json]",
		Short: "Apply the journal's pending documents under the lease, adding none",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := requireIndex(f.dir); err != nil {
				return err
			}
			return runIndex(cmd.Context(), g, f, nil)
		},
	}
	f.addWriterFlags(c)
	return c
}

// indexSummary is the --json output of index and flush.
type indexSummary struct {
	Files    int            `json:"files"`
	Accepted int            `json:"accepted"`
	Indexed  int            `json:"indexed"`
	Skipped  int            `json:"skipped"`
	Bad      int            `json:"bad"`
	Deleted  int            `json:"deleted"`
	Pending  int            `json:"pending"`
	Token    uint64         `json:"token"`
	Seconds  float64        `json:"seconds"`
	Journal  string         `json:"journal"`
	Skips    []indexer.Skip `json:"skips,omitempty"`
}

// owner is the lease owner and journal key: by default the hostname, which
// stays the same from run to run, so a rerun applies what a failed run left.
func (f *indexFlags) owner() (string, error) {
	if f.lease.owner != "" {
		return f.lease.owner, nil
	}
	return os.Hostname()
}

func runIndex(ctx context.Context, g *globals, f *indexFlags, paths []string) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if f.batch < 1 {
		return usageErr(fmt.Errorf("--batch %d: must be at least 1", f.batch))
	}
	if f.lease.wait < 0 {
		return usageErr(fmt.Errorf("--wait %v: must not be negative", f.lease.wait))
	}
	start := time.Now()
	owner, err := f.owner()
	if err != nil {
		return err
	}
	jpath := f.journal
	if jpath == "" {
		if jpath, err = indexer.DefaultJournalPath(f.dir, owner); err != nil {
			return err
		}
	}
	j, err := indexer.OpenJournal(jpath)
	if err != nil {
		return err
	}
	defer j.Close()

	sum := indexSummary{Journal: jpath}
	prog := newProgress(g, f.asJSON)
	defer prog.finish()
	opts := []indexer.Option{
		indexer.WithLogger(g.log), indexer.WithBatch(f.batch), indexer.WithThreads(f.threads),
		indexer.WithSchema(f.schema), indexer.WithProgress(prog.applied),
		indexer.WithLockOptions(append(g.lockOptions(), lock.WithLeaseDuration(f.lease.lease), lock.WithOwner(owner))...),
		indexer.WithFailpoint(os.Getenv("TGUARD_FAILPOINT")),
	}
	if f.memory != indexer.DefaultMemoryBudget {
		opts = append(opts, indexer.WithMemoryBudget(f.memory))
	}
	ixr, err := indexer.New(f.dir, j, opts...)
	if err != nil {
		return optionsErr(err)
	}
	defer ixr.Close()

	skip := func(s indexer.Skip) {
		sum.Skips = append(sum.Skips, s)
		if !f.asJSON {
			prog.clear()
			fmt.Fprintf(g.stderr, "tguard: skipped %s: %s\n", s.Path, s.Reason)
		}
	}
	if len(paths) > 0 {
		if err := journalPaths(ixr, f, paths, &sum, skip, prog); err != nil {
			return err
		}
	}

	if f.lease.wait > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, f.lease.wait)
		defer cancel()
	}
	res, ferr := ixr.Flush(ctx)
	sum.Indexed, sum.Token = res.Applied-res.Bad, res.Token
	sum.Bad += res.Bad
	for _, s := range res.BadDocs {
		skip(s)
	}
	changed, gone := res.Changed, res.Gone
	if ferr != nil {
		// Nothing committed: what is reported as journaled must no longer
		// depend on the files.
		c, lost, err := ixr.CopyReferences()
		changed, gone = append(changed, c...), append(gone, lost...)
		if err != nil {
			g.log.Warn("copying file contents into the journal", "error", err)
		}
	}
	for _, s := range append(changed, gone...) {
		skip(s)
	}
	sum.Skipped = len(sum.Skips)
	sum.Pending, _ = j.PendingCount()
	sum.Seconds = time.Since(start).Seconds()
	prog.finish()
	if ferr != nil {
		return flushError(ferr, sum.Pending)
	}
	if f.asJSON {
		return printJSON(g.stdout, sum)
	}
	rate := 0.0
	if sum.Seconds > 0 {
		rate = float64(sum.Indexed) / sum.Seconds
	}
	fmt.Fprintf(g.stdout, "files %d, accepted %d, indexed %d, skipped %d, deleted %d, token %d, %.1f s, %.0f docs/s\n",
		sum.Files, sum.Accepted, sum.Indexed, sum.Skipped, sum.Deleted, sum.Token, sum.Seconds, rate)
	return nil
}

// flushError gives each way a flush can fail its exit code and says where
// the documents are.
func flushError(err error, pending int) error {
	var held *lock.HeldError
	switch {
	case errors.As(err, &held):
		return withCode(exitNotLocked, fmt.Errorf("lease not acquired: %v; %d documents stay journaled (tguard flush applies them)", held, pending))
	case errors.Is(err, lock.ErrLeaseLost), errors.Is(err, indexer.ErrFenced):
		return withCode(exitLeaseLost, fmt.Errorf("%v; nothing was committed, %d documents stay journaled", err, pending))
	}
	return fmt.Errorf("%v; %d documents stay journaled", err, pending)
}

// journalPaths walks paths and journals what changed since this journal
// last saw it (references to the files, not copies: see
// indexer.AcceptFiles), in batches; with --prune it also journals the
// deletion of documents whose files are gone.
func journalPaths(ixr *indexer.Indexer, f *indexFlags, paths []string, sum *indexSummary, skip func(indexer.Skip), prog *progress) error {
	state, err := ixr.FileState()
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	var batch []indexer.FileDoc
	size := 0
	flush := func() error {
		n, err := ixr.AcceptFiles(batch)
		sum.Accepted += n
		clear(batch) // drop the bodies
		batch, size = batch[:0], 0
		return err
	}
	w := &indexer.Walker{
		MaxSize:   f.maxSize,
		OnSkip:    skip,
		Unchanged: state.Unchanged,
		OnFile: func(path string) {
			sum.Files++
			prog.file()
			if abs, err := filepath.Abs(path); err == nil {
				seen[abs] = true
			}
		},
		OnRef: func(d indexer.FileDoc) error {
			batch = append(batch, d)
			size += len(d.Body)
			if len(batch) >= f.batch || size >= indexer.DefaultBatchBytes {
				return flush()
			}
			return nil
		},
	}
	if err := w.Walk(paths); err != nil {
		return err
	}
	if err := flush(); err != nil {
		return err
	}
	if f.prune {
		n, err := pruneGone(ixr, f.dir, paths, seen)
		sum.Deleted = n
		return err
	}
	return nil
}

// pruneGone journals deletions for documents under the folders in paths
// whose files were not seen in this walk. Reading the index needs no lease.
func pruneGone(ixr *indexer.Indexer, dir string, paths []string, seen map[string]bool) (int, error) {
	idx, err := bridge.Open(dir)
	if errors.Is(err, bridge.ErrNotFound) || errors.Is(err, bridge.ErrNotAnIndex) {
		return 0, nil // nothing indexed yet, nothing to prune
	}
	if err != nil {
		return 0, err
	}
	defer idx.Close()
	deleted := 0
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil || !fi.IsDir() {
			continue
		}
		abs, err := filepath.Abs(p)
		if err != nil {
			return deleted, err
		}
		prefix := strings.TrimSuffix(abs, string(filepath.Separator)) + string(filepath.Separator)
		ids, err := idx.IDsWithPrefix(prefix)
		if err != nil {
			return deleted, err
		}
		var gone []string
		for _, id := range ids {
			if !seen[id] {
				gone = append(gone, id)
			}
		}
		if err := ixr.AcceptDeletes(gone, "prune "+abs); err != nil {
			return deleted, err
		}
		if err := ixr.ForgetFiles(gone); err != nil {
			return deleted, err
		}
		deleted += len(gone)
	}
	return deleted, nil
}
