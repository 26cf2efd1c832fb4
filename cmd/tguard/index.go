package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"
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
	root    string
	deletes []string // ids, for tguard delete
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
	c.Flags().Lookup("owner").Usage = "owner id, also the key of the default journal (default: the hostname)"
}

func newIndexCmd(g *globals) *cobra.Command {
	f := &indexFlags{}
	c := &cobra.Command{
		Use:   "index --index DIR [--owner ID] [--lease DUR] [--wait DUR | -n] [--root DIR] [--journal FILE] [--batch N] [--prune] [--json] PATH...",
		Short: "Journal files, folders and JSON-lines files, then apply them under the lease",
		Long: `Index text files (one document each) and *.jsonl files (one document per
line, keyed by its "id"; bad lines are counted, the others are indexed).
Binary, non-UTF-8 and oversized files and symbolic links inside folders are
skipped; the summary counts them by reason, --verbose lists them.

A file's id is its canonical path: absolute, cleaned, with symbolic links in
the given PATH resolved, so "dir", "dir/" and a link to dir give the same ids.
With --root R it is the path below R with "/" as the separator and a leading
"/" (R/docs/a.txt is "/docs/a.txt"): hosts that mount one share at different
places (/mnt/share, /srv/share, Z:\) then give a file the same id.
--prune also removes ids an older tguard gave through a symbolic link.

Every accepted file is first recorded in a local SQLite journal (a reference
to the file: path, size, times, inode; its content is copied in only if the
run ends without committing); then the lease is acquired, the journal
applied, committed with the lease's fencing token, and the lease released.
Files unchanged since the journal last recorded them are skipped, so
indexing an unchanged folder commits nothing. Not acquired within --wait: exit 75, and the
documents stay journaled for the next run of the same owner, or for
"tguard flush". With --prune, documents under a given folder whose files are
gone are deleted. The index is created if missing, with --schema (Tantivy's
schema JSON) or the default schema; it keeps its schema (tguard schema prints
it). SIGINT or SIGTERM: nothing half-done is committed, the lease is released,
the journal kept (exit 130 / 143); a second signal exits at once.`,
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
	c.Flags().StringVar(&f.schema, "schema", "", "schema for a new index: Tantivy's schema JSON, inline or a file name (default: id, path, title, body, modified; an existing index keeps its own)")
	c.Flags().BoolVar(&f.prune, "prune", false, "delete documents of files under the given folders that no longer exist")
	c.Flags().StringVar(&f.root, "root", "", "make file ids relative to this folder (\"/sub/file.txt\"), the same from every host and mount point")
	return c
}

func newFlushCmd(g *globals) *cobra.Command {
	f := &indexFlags{}
	c := &cobra.Command{
		Use:   "flush --index DIR [--owner ID] [--lease DUR] [--wait DUR | -n] [--journal FILE] [--json]",
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
	Files     int            `json:"files"`
	Accepted  int            `json:"accepted"`
	Indexed   int            `json:"indexed"`
	Skipped   int            `json:"skipped"` // files, by reason in SkippedBy
	SkippedBy map[string]int `json:"skipped_by_reason,omitempty"`
	Bad       int            `json:"bad"`
	Deleted   int            `json:"deleted"`
	Pending   int            `json:"pending"`
	Token     uint64         `json:"token"` // the commit's fencing token; 0: nothing committed
	Committed bool           `json:"committed"`
	Seconds   float64        `json:"seconds"`
	Journal   string         `json:"journal"`
	Skips     []indexer.Skip `json:"skips,omitempty"`
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
	if err := f.lease.check(); err != nil {
		return err
	}
	start := time.Now()
	schema, err := checkSchema(g, f.dir, f.schema)
	if err != nil {
		return err
	}
	owner, err := f.owner()
	if err != nil {
		return err
	}
	if err := checkJournalFlag(f.journal); err != nil {
		return err
	}
	fpOpts, err := failpointOptions()
	if err != nil {
		return err
	}

	intr := catchInterrupts(g.stderr)
	defer intr.stop()
	ictx, stopWait := context.WithCancel(ctx)
	defer stopWait()
	go func() { // the first signal also ends a wait for the lease
		select {
		case <-intr.done:
			stopWait()
		case <-ictx.Done():
		}
	}()
	ctx = ictx
	hint := f.flushHint()

	sum := indexSummary{SkippedBy: map[string]int{}}
	prog := newProgress(g, f.asJSON || g.quiet)
	defer prog.finish()
	// Skipped files and bad lines are listed with --verbose only (and in
	// --json); the summary counts them.
	skip := func(s indexer.Skip) {
		sum.Skips = append(sum.Skips, s)
		if g.verbose && !f.asJSON {
			prog.clear()
			fmt.Fprintf(g.stderr, "tguard: skipped %s: %s\n", s.Path, s.Reason)
		}
	}
	skipFile := func(s indexer.Skip) {
		sum.Skipped++
		sum.SkippedBy[skipReason(s.Reason)]++
		skip(s)
	}
	opts := []indexer.Option{
		indexer.WithLogger(g.log), indexer.WithBatch(f.batch), indexer.WithThreads(f.threads),
		indexer.WithSchema(schema), indexer.WithProgress(prog.applied),
		indexer.WithLockOptions(append(g.lockOptions(), lock.WithLeaseDuration(f.lease.lease), lock.WithOwner(owner))...),
		indexer.WithInterrupt(intr.done), indexer.WithOnWait(prog.waiting),
		indexer.WithRoot(f.root), indexer.WithMaxFileSize(f.maxSize),
		indexer.WithOnSkip(skipFile), indexer.WithOnFile(func(string) { prog.file() }),
	}
	opts = append(opts, fpOpts...)
	if f.journal != "" {
		opts = append(opts, indexer.WithJournal(f.journal))
	}
	if f.prune {
		opts = append(opts, indexer.WithPrune())
	}
	if f.lease.noWait() {
		opts = append(opts, indexer.WithNoWait())
	}
	if f.memory != indexer.DefaultMemoryBudget {
		opts = append(opts, indexer.WithMemoryBudget(f.memory))
	}
	ixr, err := indexer.New(f.dir, opts...)
	if err != nil {
		return newErr(err)
	}
	defer ixr.Close()
	sum.Journal = ixr.JournalPath()

	// A file that changed or went away between its journaling and its
	// application is counted with the skips under its own reason, and
	// warned about (unless -q): a journaled document was not indexed as
	// journaled.
	changedOrGone := func(ss []indexer.Skip) {
		for _, s := range ss {
			skipFile(s)
			if !g.verbose && !g.quiet && !f.asJSON {
				prog.clear()
				fmt.Fprintf(g.stderr, "tguard: warning: %s: %s\n", s.Path, s.Reason)
			}
		}
	}
	// Nothing committed: what is reported as journaled (the summary, the
	// "interrupted" and "stay journaled" messages are acknowledgements)
	// must no longer depend on the files, so their contents are copied in
	// first.
	copyRefs := func() {
		changed, gone, err := ixr.CopyReferences()
		changedOrGone(append(changed, gone...))
		if err != nil {
			g.log.Warn("copying file contents into the journal", "error", err)
		}
	}
	if len(paths) > 0 {
		added, err := ixr.AddPaths(paths)
		sum.Files, sum.Accepted, sum.Deleted = added.Files, added.Accepted, added.Deleted
		if intr.fired() {
			copyRefs()
			prog.finish()
			n, _ := ixr.Pending()
			return intr.err(n, hint)
		}
		if errors.Is(err, indexer.ErrOutsideRoot) {
			copyRefs()
			return usageErr(err)
		}
		if err != nil {
			copyRefs() // the run ends without committing
			return err
		}
	}
	if len(f.deletes) > 0 {
		if err := ixr.AcceptDeletes(f.deletes, "tguard delete"); err != nil {
			return err
		}
		sum.Deleted = len(f.deletes)
	}
	if pending, err := ixr.Pending(); err == nil {
		prog.applying(pending)
	}

	if f.lease.wait > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, f.lease.wait)
		defer cancel()
	}
	res, ferr := ixr.Flush(ctx)
	// Applied counts this run's deletions too; indexed are documents.
	sum.Indexed, sum.Committed = max(res.Applied-res.Bad-sum.Deleted, 0), res.Committed
	if res.Committed {
		sum.Token = res.Token
	}
	sum.Bad += res.Bad
	for _, s := range res.BadDocs {
		skip(s)
	}
	changedOrGone(append(res.Changed, res.Gone...))
	if !res.Committed {
		copyRefs()
	}
	sum.Pending, _ = ixr.Pending()
	sum.Seconds = time.Since(start).Seconds()
	prog.finish()
	if intr.fired() {
		return intr.err(sum.Pending, hint)
	}
	if ferr != nil {
		return flushError(ferr, sum.Pending, hint)
	}
	if f.asJSON {
		return printJSON(g.stdout, sum)
	}
	rate := 0.0
	if sum.Seconds > 0 {
		rate = float64(sum.Indexed) / sum.Seconds
	}
	if g.quiet {
		return nil
	}
	fmt.Fprintln(g.stdout, summaryLine(sum, rate, g.verbose))
	return nil
}

// flushError gives each way a flush can fail its exit code and says where
// the documents are.
func flushError(err error, pending int, hint string) error {
	var held *lock.HeldError
	switch {
	case errors.As(err, &held):
		return withCode(exitNotLocked, fmt.Errorf("lease not acquired: %v; %d documents stay journaled (`%s` applies them)", held, pending, hint))
	case errors.Is(err, lock.ErrLeaseLost), errors.Is(err, indexer.ErrFenced):
		return withCode(exitLeaseLost, fmt.Errorf("%v; nothing was committed, %d documents stay journaled", err, pending))
	}
	return fmt.Errorf("%v; %d documents stay journaled", err, pending)
}
