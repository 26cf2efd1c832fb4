// Command tguard indexes and searches a Tantivy index that several
// instances share, and lets them take turns as its single writer through a
// lease lock in the index folder. Run "tguard help" for the commands and the
// exit codes.
package main

import (
	"fmt"
	"io"
	"os"
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
	err := root.Execute()
	if err == nil {
		return exitOK
	}
	if msg := oneLine(err.Error()); msg != "" {
		fmt.Fprintf(stderr, "tguard: %s\n", msg)
	}
	return exitCode(err)
}
