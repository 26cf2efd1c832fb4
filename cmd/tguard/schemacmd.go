package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/tguard/tguard/bridge"
)

func newSchemaCmd(g *globals) *cobra.Command {
	var dir string
	c := &cobra.Command{
		Use:   "schema --index DIR",
		Short: "Print the schema the index keeps, in Tantivy's schema JSON",
		Long: `Print the index's schema in Tantivy's own schema JSON (the "schema" array of
meta.json, as tantivy-cli and tantivy-py write it). "tguard index --schema"
accepts exactly this, for a new index; an existing index keeps its schema,
so later runs need no --schema.`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(_ *cobra.Command, _ []string) error {
			ix, err := openNamedIndex(dir)
			if err != nil {
				return err
			}
			defer ix.Close()
			s, err := ix.Schema()
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(g.stdout, s)
			return err
		},
	}
	c.Flags().StringVar(&dir, "index", "", "index folder")
	return c
}

// schemaArg is --schema's JSON: given inline (it starts with [ or {) or as
// the name of a file holding it.
func schemaArg(v string) (string, error) {
	t := strings.TrimSpace(v)
	if t == "" || strings.HasPrefix(t, "[") || strings.HasPrefix(t, "{") {
		return v, nil
	}
	b, err := os.ReadFile(t)
	if err != nil {
		return "", usageErr(fmt.Errorf("--schema: %w", err))
	}
	return string(b), nil
}

// checkSchema checks --schema before anything is journaled: a bad schema is
// a usage error, and one that differs from the schema an existing index
// keeps is refused here rather than after the documents were journaled.
func checkSchema(g *globals, dir, schema string) (string, error) {
	schema, err := schemaArg(schema)
	if err != nil || strings.TrimSpace(schema) == "" {
		return schema, err
	}
	want, err := bridge.CheckSchema(schema)
	if err != nil {
		return "", usageErr(fmt.Errorf("--schema: %w", err))
	}
	if !storesID(want) {
		g.warn("--schema does not store \"id\" (\"stored\": true): hits cannot say which document they are")
	}
	ix, err := bridge.Open(dir)
	if errors.Is(err, bridge.ErrNotFound) || errors.Is(err, bridge.ErrNotAnIndex) {
		return schema, nil // a new index: created with this schema
	}
	if err != nil {
		return "", err
	}
	defer ix.Close()
	have, err := ix.Schema()
	if err != nil {
		return "", err
	}
	if have != want {
		return "", fmt.Errorf("%w: the index at %s keeps another schema (tguard schema --index %s prints it); leave out --schema to use it",
			bridge.ErrSchemaMismatch, dir, shellQuote(dir))
	}
	return schema, nil
}

// storesID reports whether a schema in Tantivy's JSON stores the id field.
// Tantivy's fields default to not stored; a schema that forgets it gives
// hits with nothing but a score.
func storesID(tantivyJSON string) bool {
	var fields []struct {
		Name    string `json:"name"`
		Options struct {
			Stored bool `json:"stored"`
		} `json:"options"`
	}
	if json.Unmarshal([]byte(tantivyJSON), &fields) != nil {
		return true // not ours to judge
	}
	for _, f := range fields {
		if f.Name == "id" {
			return f.Options.Stored
		}
	}
	return true
}

// warn prints a warning on stderr, unless -q.
func (g *globals) warn(format string, a ...any) {
	if !g.quiet {
		fmt.Fprintf(g.stderr, "tguard: warning: "+format+"\n", a...)
	}
}
