package main

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"github.com/tguard/tguard/bridge"
	"golang.org/x/term"
)

func newSearchCmd(g *globals) *cobra.Command {
	var dir, fields string
	var limit int
	var asJSON bool
	c := &cobra.Command{
		Use:   "search --index DIR [--limit N] [--fields a,b] [--json] QUERY",
		Short: "Search the index (no lease needed)",
		Long: `Search the index with Tantivy's query syntax over the text fields (path,
title and body by default):

  words               any of them; +must -not; AND, OR, NOT and ( )
  "a phrase"          the words in this order
  field:value         one field: title:mutex, modified:[2024-01-01T00:00:00Z TO *]
  path:sync           files with "sync" as a folder or file name word;
                      path:"src/sync" for consecutive path words
  "sync rwmu"*        a phrase whose last word starts with "rwmu" (at
                      least two words)
  "a b"~2             the words at most 2 positions apart (slop)

Tantivy's query syntax has no wildcard for one word and no fuzzy terms:
mutex* and mutex~1 are accepted and searched as mutex; tguard warns.

Text output: score, title, path (or id), and a one-line snippet with the
matched terms in bold on a terminal. --json: every stored field of each hit
(or those named by --fields), "snippet" (text and the byte ranges of the
matched terms in "highlighted") and "score".

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
			var names []string
			if fields != "" {
				for _, n := range strings.Split(fields, ",") {
					if n = strings.TrimSpace(n); n != "" {
						names = append(names, n)
					}
				}
			}
			if w := ignoredOperator(query); w != "" {
				g.warn("%s is searched as %s: Tantivy's query syntax has no wildcard or fuzzy term for one word (see tguard help search)",
					w, strings.TrimRight(w, "*~0123456789"))
			}
			ix, err := bridge.Open(dir)
			if err != nil {
				return err
			}
			defer ix.Close()
			res, err := ix.SearchFields(query, limit, names)
			if errors.Is(err, bridge.ErrInvalidArgument) && names != nil {
				return usageErr(err)
			}
			if errors.Is(err, bridge.ErrQuerySyntax) && strings.Contains(err.Error(), "not declared as indexed") {
				// An index made by an older tguard stores path without
				// indexing it; its schema is kept, so say how to see it.
				return fmt.Errorf("%w (tguard schema --index %s shows which fields are indexed)", err, shellQuote(dir))
			}
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(g.stdout, res)
			}
			bold := false
			if f, ok := g.stdout.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
				bold = true
			}
			fmt.Fprintf(g.stdout, "%d hits for %q\n", res.Total, query)
			for _, h := range res.Hits {
				printHit(g, h, names, bold)
			}
			return nil
		},
	}
	c.Flags().StringVar(&dir, "index", "", "index folder")
	c.Flags().IntVar(&limit, "limit", 10, "most hits to print")
	c.Flags().StringVar(&fields, "fields", "", "stored fields to show, comma-separated (default: all)")
	c.Flags().BoolVar(&asJSON, "json", false, "print one JSON object")
	return c
}

// printHit prints one hit: score, title and path (or id), the fields asked
// for, and the snippet.
func printHit(g *globals, h bridge.Hit, names []string, bold bool) {
	where := firstNonEmpty(h.Path, h.ID)
	if h.Title != "" && !strings.HasSuffix(where, h.Title) {
		fmt.Fprintf(g.stdout, "%8.3f  %s  %s\n", h.Score, h.Title, where)
	} else {
		fmt.Fprintf(g.stdout, "%8.3f  %s\n", h.Score, firstNonEmpty(where, h.Title))
	}
	for _, n := range names {
		if v, ok := h.Fields[n]; ok && n != "id" && n != "path" && n != "title" {
			fmt.Fprintf(g.stdout, "          %s: %v\n", n, v)
		}
	}
	if h.Snippet != nil && strings.TrimSpace(h.Snippet.Text) != "" {
		fmt.Fprintf(g.stdout, "          %s\n", markSnippet(h.Snippet, bold))
	}
}

// markSnippet puts the matched terms in bold (ANSI) on a terminal and
// leaves the text plain otherwise; runs of spaces (the library turns line
// breaks and tabs into spaces) become one.
func markSnippet(s *bridge.Snippet, bold bool) string {
	text := s.Text
	var ranges [][2]int
	at := 0
	for _, r := range s.Highlighted {
		if r[0] >= at && r[0] < r[1] && r[1] <= len(text) {
			ranges = append(ranges, r)
			at = r[1]
		}
	}
	var b strings.Builder
	k, space := 0, false
	for i, r := range text {
		if bold && k < len(ranges) && i == ranges[k][0] {
			b.WriteString("\x1b[1m")
		}
		if r == ' ' && space {
			continue
		}
		space = r == ' '
		b.WriteRune(r)
		if bold && k < len(ranges) && i+utf8.RuneLen(r) == ranges[k][1] {
			b.WriteString("\x1b[0m")
			k++
		}
	}
	return strings.TrimSpace(b.String())
}

// ignoredRe finds a word ending in * or ~N outside quotes (after a quoted
// phrase they are a phrase prefix and a slop, which Tantivy does run).
var ignoredRe = regexp.MustCompile(`(?:^|[\s(+\-])((?:[\pL\pN_]+:)?[\pL\pN_.]+(?:\*|~[0-9]*))`)

// ignoredOperator is the first word with a trailing * or ~N, which
// Tantivy's parser accepts and ignores, or "".
func ignoredOperator(q string) string {
	// Drop quoted phrases first.
	var b strings.Builder
	in := false
	for _, r := range q {
		if r == '"' {
			in = !in
			b.WriteRune(' ')
			continue
		}
		if in {
			b.WriteRune(' ')
		} else {
			b.WriteRune(r)
		}
	}
	if m := ignoredRe.FindStringSubmatch(b.String()); m != nil {
		return m[1]
	}
	return ""
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}
