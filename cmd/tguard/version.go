package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// rustLibrary is the SHA-256 of the Rust library linked in, set by the
// Makefile with -ldflags -X. Besides telling which build this is, it makes
// go build relink when only the library changed: go build does not look
// inside a library named in cgo LDFLAGS and would keep the old binary.
var rustLibrary = "unknown"

type versionInfo struct {
	Version     string `json:"version"`
	Go          string `json:"go"`
	RustLibrary string `json:"rust_library_sha256"`
}

func newVersionCmd(g *globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the build's version, Go version and Rust library hash",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			v := versionInfo{Version: "(devel)", Go: runtime.Version(), RustLibrary: rustLibrary}
			if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
				v.Version = bi.Main.Version
			}
			if asJSON {
				return printJSON(g.stdout, v)
			}
			_, err := fmt.Fprintf(g.stdout, "tguard %s (%s, rust library sha256 %s)\n", v.Version, v.Go, v.RustLibrary)
			return err
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
