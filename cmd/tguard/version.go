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
			v := buildVersion()
			if asJSON {
				return printJSON(g.stdout, v)
			}
			_, err := fmt.Fprintln(g.stdout, v.line())
			return err
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func buildVersion() versionInfo {
	v := versionInfo{Version: "(devel)", Go: runtime.Version(), RustLibrary: rustLibrary}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		v.Version = bi.Main.Version
	}
	return v
}

func (v versionInfo) line() string {
	return fmt.Sprintf("tguard %s (%s, rust library sha256 %s)", v.Version, v.Go, v.RustLibrary)
}

// addVersionFlag gives the root command --version, as most tools have; it
// prints what "tguard version" prints.
func addVersionFlag(root *cobra.Command) {
	root.Version = buildVersion().Version
	root.SetVersionTemplate(buildVersion().line() + "\n")
}
