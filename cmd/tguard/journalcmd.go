package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/tguard/tguard/indexer"
	"golang.org/x/term"
)

func newJournalCmd(g *globals) *cobra.Command {
	c := &cobra.Command{
		Use:   "journal",
		Short: "List the local journals, or drop one",
		Args:  exactArgs(0, "a subcommand: list or drop"),
		RunE:  func(c *cobra.Command, _ []string) error { return c.Help() },
	}
	c.AddCommand(newJournalListCmd(g), newJournalDropCmd(g))
	return c
}

func newJournalListCmd(g *globals) *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "list [--json]",
		Short: "List every journal in the state folder: index, owner, pending documents, size",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(_ *cobra.Command, _ []string) error {
			infos, err := indexer.ListJournals()
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(g.stdout, infos)
			}
			dir, _ := indexer.JournalDir()
			if len(infos) == 0 {
				fmt.Fprintf(g.stdout, "no journals in %s\n", dir)
				return nil
			}
			for _, j := range infos {
				if j.Error != "" {
					fmt.Fprintf(g.stdout, "%s  unreadable: %s\n", j.Path, oneLine(j.Error))
					continue
				}
				index := j.Index
				if index == "" {
					index = "(index not recorded: written by an older tguard)"
				}
				fmt.Fprintf(g.stdout, "%s\n  index %s, owner %s, %d pending, %d committed awaiting confirmation, %s\n",
					j.Path, index, orNone(j.Owner), j.Pending, j.Unconfirmed, byteSize(j.Bytes))
			}
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print a JSON array")
	return c
}

func newJournalDropCmd(g *globals) *cobra.Command {
	var dir, owner, path string
	var yes, asJSON bool
	c := &cobra.Command{
		Use:   "drop --index DIR [--owner ID | --journal FILE] [--yes] [--json]",
		Short: "Remove one journal, losing the documents it has not applied",
		Long: `Remove the journal of (index, owner): the documents it holds that no commit
recorded are lost; the ones already committed stay in the index. It asks
for confirmation on a terminal; elsewhere it needs --yes. Do not drop a
journal while a tguard using it runs.`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(_ *cobra.Command, _ []string) error {
			if path == "" {
				if err := requireIndex(dir); err != nil {
					return err
				}
				if owner == "" {
					h, err := os.Hostname()
					if err != nil {
						return err
					}
					owner = h
				}
				p, err := indexer.DefaultJournalPath(dir, owner)
				if err != nil {
					return err
				}
				path = p
			}
			if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("no journal for index %s and owner %s (%s); tguard journal list shows them", dir, owner, path)
			}
			if err := checkJournalFlag(path); err != nil {
				return err
			}
			info, err := indexer.ReadJournalInfo(path)
			if err != nil {
				return err
			}
			if !yes {
				if !confirm(g, fmt.Sprintf("drop %s with %d documents not applied? [y/N] ", path, info.Pending)) {
					return usageErr(fmt.Errorf("not dropped: confirm on a terminal or pass --yes (%d documents pending)", info.Pending))
				}
			}
			if err := indexer.RemoveJournal(path); err != nil {
				return err
			}
			if asJSON {
				return printJSON(g.stdout, map[string]any{"journal": path, "dropped": info.Pending})
			}
			if !g.quiet {
				fmt.Fprintf(g.stdout, "dropped %s: %d documents not applied are lost\n", path, info.Pending)
			}
			return nil
		},
	}
	c.Flags().StringVar(&dir, "index", "", "index folder the journal belongs to")
	c.Flags().StringVar(&owner, "owner", "", "owner the journal belongs to (default: the hostname, as for index)")
	c.Flags().StringVar(&path, "journal", "", "journal file (instead of --index and --owner)")
	c.Flags().BoolVar(&yes, "yes", false, "do not ask")
	c.Flags().BoolVar(&asJSON, "json", false, "print one JSON object")
	return c
}

// confirm asks on the terminal; without one the answer is no.
func confirm(g *globals, prompt string) bool {
	if !term.IsTerminal(int(os.Stdin.Fd())) {
		return false
	}
	fmt.Fprint(g.stderr, prompt)
	line, _ := bufio.NewReader(os.Stdin).ReadString('\n')
	a := strings.ToLower(strings.TrimSpace(line))
	return a == "y" || a == "yes"
}

func orNone(s string) string {
	if s == "" {
		return "(not recorded)"
	}
	return s
}

func byteSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
