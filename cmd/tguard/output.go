package main

import (
	"encoding/json"
	"io"
)

// printJSON writes v as one line of JSON: the --json output of a command.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
