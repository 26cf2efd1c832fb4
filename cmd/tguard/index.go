package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"github.com/tguard/tguard/bridge"
	"github.com/tguard/tguard/indexer"
)

type indexFlags struct {
	dir     string
	asJSON  bool
	memory  uint64
	threads int
	maxSize int64
	batch   int
	schema  string
}

func newIndexCmd(g *globals) *cobra.Command {
	f := &indexFlags{}
	c := &cobra.Command{
		Use:   "index --index DIR [--json] PATH...",
		Short: "Index files, folders and JSON-lines files",
		Long: `Index text files (one document each, keyed by absolute path; binary, non-UTF-8
and oversized files are skipped with a warning) and *.jsonl files (one
document per line, keyed by its "id"; bad lines are counted and named by
file and line, the others are indexed). The index is created if missing.`,
		Args: minArgs(1, "at least one PATH"),
		RunE: func(_ *cobra.Command, paths []string) error {
			if err := requireIndex(f.dir); err != nil {
				return err
			}
			return runIndex(g, f, paths)
		},
	}
	c.Flags().StringVar(&f.dir, "index", "", "index folder (created if missing)")
	c.Flags().BoolVar(&f.asJSON, "json", false, "print one JSON summary object")
	c.Flags().Uint64Var(&f.memory, "memory", 128<<20, "writer memory budget in bytes (at least 15,000,000 per thread)")
	c.Flags().IntVar(&f.threads, "threads", 0, "indexing threads (0: Tantivy's choice)")
	c.Flags().Int64Var(&f.maxSize, "max-size", indexer.DefaultMaxFileSize, "skip text files larger than this many bytes")
	c.Flags().IntVar(&f.batch, "batch", indexer.DefaultBatchDocs, "documents per call into the index")
	c.Flags().StringVar(&f.schema, "schema", "", "schema as JSON, for a new index (default: id, path, title, body, modified)")
	return c
}

// indexSummary is the --json output of index.
type indexSummary struct {
	Files      int            `json:"files"`
	Indexed    int            `json:"indexed"`
	Skipped    int            `json:"skipped"`
	Bad        int            `json:"bad"`
	Token      uint64         `json:"token"`
	Seconds    float64        `json:"seconds"`
	DocsPerSec float64        `json:"docs_per_second"`
	Skips      []indexer.Skip `json:"skips,omitempty"`
}

func runIndex(g *globals, f *indexFlags, paths []string) error {
	if f.batch < 1 {
		return usageErr(fmt.Errorf("--batch %d: must be at least 1", f.batch))
	}
	start := time.Now()
	ix, err := bridge.OpenOrCreate(f.dir, f.schema)
	if err != nil {
		return err
	}
	defer ix.Close()
	w, err := ix.Writer(f.memory, f.threads)
	if err != nil {
		return err
	}
	defer w.Close()

	var sum indexSummary
	skip := func(s indexer.Skip) {
		sum.Skips = append(sum.Skips, s)
		if !f.asJSON {
			fmt.Fprintf(g.stderr, "tguard: skipped %s: %s\n", s.Path, s.Reason)
		}
	}
	b := &indexer.Batcher{W: w, MaxDocs: f.batch, MaxBytes: indexer.DefaultBatchBytes, OnBad: skip}
	walker := &indexer.Walker{
		MaxSize: f.maxSize,
		OnDoc:   b.Add,
		OnSkip:  skip,
		OnFile:  func(string) { sum.Files++ },
	}
	if err := walker.Walk(paths); err != nil {
		return err
	}
	if err := b.Flush(); err != nil {
		return err
	}
	if _, err := w.Commit(indexer.Payload{}.Encode(), 0); err != nil {
		return err
	}
	sum.Indexed, sum.Bad = b.Added, b.Bad
	sum.Skipped = len(sum.Skips)
	sum.Seconds = time.Since(start).Seconds()
	if sum.Seconds > 0 {
		sum.DocsPerSec = float64(sum.Indexed) / sum.Seconds
	}
	if f.asJSON {
		return printJSON(g.stdout, sum)
	}
	fmt.Fprintf(g.stdout, "files %d, indexed %d, skipped %d, %.1f s, %.0f docs/s\n",
		sum.Files, sum.Indexed, sum.Skipped, sum.Seconds, sum.DocsPerSec)
	return nil
}
