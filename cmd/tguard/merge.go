package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"github.com/tguard/tguard/indexer"
	"github.com/tguard/tguard/lock"
)

func newMergeCmd(g *globals) *cobra.Command {
	var dir string
	var segments int
	var asJSON bool
	var lf leaseFlags
	c := &cobra.Command{
		Use:   "merge --index DIR [--segments N] [--owner ID] [--lease DUR] [--wait DUR | -n] [--json]",
		Short: "Merge the index's segments into at most N, under the lease",
		Long: `Merge the index's smallest segments until at most --segments are left (default
1), under the lease: every publish of meta.json is fenced like a commit, and
the merge ends with a commit under the lease's token. An index that already
has at most N segments is left alone. "tguard index" also merges after each
commit, by Tantivy's log merge policy over its small segments (at most
1,000 documents each), so small runs do not pile up segments.`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := requireIndex(dir); err != nil {
				return err
			}
			if segments < 1 {
				return usageErr(fmt.Errorf("--segments %d: must be at least 1", segments))
			}
			if err := lf.check(); err != nil {
				return err
			}
			if _, err := os.Stat(dir); err != nil {
				return fmt.Errorf("index %s: %w", dir, unwrapStatErr(err))
			}
			opts := append(g.lockOptions(), lock.WithLeaseDuration(lf.lease))
			if lf.owner != "" {
				opts = append(opts, lock.WithOwner(lf.owner))
			}
			iopts := []indexer.Option{indexer.WithLogger(g.log), indexer.WithLockOptions(opts...)}
			if lf.noWait() {
				iopts = append(iopts, indexer.WithNoWait())
			}
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			if lf.wait > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, lf.wait)
				defer cancel()
			}
			res, err := indexer.Merge(ctx, dir, segments, iopts...)
			if errors.Is(err, indexer.ErrOption) {
				return newErr(err)
			}
			if err != nil {
				return mergeError(err)
			}
			if asJSON {
				return printJSON(g.stdout, map[string]any{"before": res.Before, "after": res.After,
					"token": res.Token, "committed": res.Committed})
			}
			if !g.quiet {
				fmt.Fprintf(g.stdout, "segments %d -> %d, token %d\n", res.Before, res.After, res.Token)
			}
			return nil
		},
	}
	c.Flags().StringVar(&dir, "index", "", "index folder")
	c.Flags().IntVar(&segments, "segments", 1, "merge until at most this many segments are left")
	c.Flags().BoolVar(&asJSON, "json", false, "print one JSON object")
	lf.add(c)
	return c
}

// mergeError gives a failed merge the exit codes of index and flush.
func mergeError(err error) error {
	var held *lock.HeldError
	switch {
	case errors.As(err, &held):
		return withCode(exitNotLocked, fmt.Errorf("lease not acquired: %v", held))
	case errors.Is(err, lock.ErrLeaseLost), errors.Is(err, indexer.ErrFenced):
		return withCode(exitLeaseLost, fmt.Errorf("%v; the documents in the index are unchanged", err))
	}
	return err
}

func unwrapStatErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
