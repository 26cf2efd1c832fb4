package main

import (
	"fmt"

	"github.com/spf13/cobra"
	"github.com/tguard/tguard/indexer"
)

func newStatsCmd(g *globals) *cobra.Command {
	var dir string
	var asJSON bool
	c := &cobra.Command{
		Use:   "stats --index DIR [--json]",
		Short: "Print document and segment counts and the last commit's payload",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(_ *cobra.Command, _ []string) error {
			ix, err := openNamedIndex(dir)
			if err != nil {
				return err
			}
			defer ix.Close()
			st, err := ix.Stats()
			if err != nil {
				return err
			}
			token := payloadToken(st.Payload)
			if asJSON {
				return printJSON(g.stdout, map[string]any{
					"docs": st.Docs, "segments": st.Segments, "payload": st.Payload,
					"opstamp": st.Opstamp, "token": token,
				})
			}
			payload := "(none)"
			if st.Payload != nil {
				payload = *st.Payload
			}
			fmt.Fprintf(g.stdout, "docs      %d\nsegments  %d\ntoken     %d\npayload   %s\n", st.Docs, st.Segments, token, payload)
			return nil
		},
	}
	c.Flags().StringVar(&dir, "index", "", "index folder")
	c.Flags().BoolVar(&asJSON, "json", false, "print one JSON object")
	return c
}

// payloadToken is the fencing token of the last commit, 0 if none.
func payloadToken(s *string) uint64 {
	token, err := indexer.PayloadToken(s)
	if err != nil {
		return 0
	}
	return token
}
