package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/tguard/tguard/bridge"
)

func newSearchCmd(g *globals) *cobra.Command {
	var dir string
	var limit int
	var asJSON bool
	c := &cobra.Command{
		Use:   "search --index DIR [--limit N] [--json] QUERY",
		Short: "Search the index (no lease needed)",
		Long: `Search the index with Tantivy's query syntax over the text fields
(title and body by default): words, "phrases", +must -not, field:value.
Readers never need the lease: search works while another instance writes.`,
		Args: minArgs(1, "a QUERY"),
		RunE: func(_ *cobra.Command, args []string) error {
			if err := requireIndex(dir); err != nil {
				return err
			}
			if limit < 1 {
				return usageErr(fmt.Errorf("--limit %d: must be at least 1", limit))
			}
			query := strings.Join(args, " ")
			if strings.TrimSpace(query) == "" {
				return usageErr(errors.New("empty query"))
			}
			ix, err := bridge.Open(dir)
			if err != nil {
				return err
			}
			defer ix.Close()
			res, err := ix.Search(query, limit)
			if err != nil {
				return err
			}
			if asJSON {
				if res.Hits == nil {
					res.Hits = []bridge.Hit{}
				}
				return printJSON(g.stdout, res)
			}
			fmt.Fprintf(g.stdout, "%d hits for %q\n", res.Total, query)
			for _, h := range res.Hits {
				fmt.Fprintf(g.stdout, "%8.3f  %s\n", h.Score, firstNonEmpty(h.Path, h.ID, h.Title))
			}
			return nil
		},
	}
	c.Flags().StringVar(&dir, "index", "", "index folder")
	c.Flags().IntVar(&limit, "limit", 10, "most hits to print")
	c.Flags().BoolVar(&asJSON, "json", false, "print one JSON object")
	return c
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}
