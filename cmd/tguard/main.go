// Command tguard indexes and searches a Tantivy index that several
// instances share, and lets them take turns as its single writer through a
// lease lock in the index folder. Run "tguard help" for the commands and the
// exit codes.
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes one command line and returns the exit code. Every error ends
// as one line on stderr naming the cause; no panic trace reaches the user.
func run(args []string, stdout, stderr io.Writer) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "tguard: internal error: %v\n", r)
			code = exitError
		}
	}()
	root := newRoot(stdout, stderr)
	root.SetArgs(args)
	cmd, err := root.ExecuteC()
	if err == nil {
		return exitOK
	}
	code = exitCode(err)
	msg := oneLine(err.Error())
	if msg != "" {
		fmt.Fprintf(stderr, "tguard: %s\n", msg)
	}
	// A program reading --json output gets the failure on stdout too.
	if msg != "" && wantsJSON(cmd) {
		_ = printJSON(stdout, jsonError{Error: msg, Code: code})
	}
	return code
}

// jsonError is what a command run with --json prints on stdout when it fails.
type jsonError struct {
	Error string `json:"error"`
	Code  int    `json:"code"`
}

func wantsJSON(cmd *cobra.Command) bool {
	if cmd == nil {
		return false
	}
	f := cmd.Flags().Lookup("json")
	return f != nil && f.Value.String() == "true"
}
