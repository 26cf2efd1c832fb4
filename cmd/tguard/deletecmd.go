package main

import (
	"github.com/spf13/cobra"
)

func newDeleteCmd(g *globals) *cobra.Command {
	f := &indexFlags{}
	c := &cobra.Command{
		Use:   "delete --index DIR [--owner ID] [--lease DUR] [--wait DUR | -n] [--journal FILE] [--json] ID...",
		Short: "Delete documents by id: journaled, then applied under the lease",
		Long: `Delete the documents with the given ids (for documents that did not come from
files, such as JSON lines; files that are gone are removed by index --prune).
The deletions are journaled first, then applied under the lease and
committed with its fencing token, exactly as index does; not acquired
within --wait: exit 75, and they stay journaled for flush.`,
		Args: minArgs(1, "at least one ID"),
		RunE: func(cmd *cobra.Command, ids []string) error {
			if err := requireIndex(f.dir); err != nil {
				return err
			}
			f.deletes = ids
			return runIndex(cmd.Context(), g, f, nil)
		},
	}
	f.addWriterFlags(c)
	return c
}
