package main

import (
	"errors"
	"fmt"
	"github.com/tguard/tguard/bridge"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/tguard/tguard/lock"
)

// globals are the flags every command has.
type globals struct {
	stdout, stderr io.Writer
	logLevel       string
	log            *slog.Logger
	skew           time.Duration
	quiet, verbose bool         // -q: errors only; -v: list what was skipped
	backend        backendFlags // backend.go
}

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	g := &globals{stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:   "tguard",
		Short: "Index and search a shared Tantivy index; take turns as its single writer",
		Long: `tguard indexes and searches a Tantivy index that several instances share
(on a local disk, an SMB share or an NFS export) and lets them take turns as
its single writer through a lease in the index folder.

Environment:
  TGUARD_CLOCK_SKEW=DURATION  offset every wall-clock reading of the process
                              (e.g. -1h, 90m), to show that skew between hosts
                              does not break the lease
  TGUARD_LOG=LEVEL            default for --log-level

` + exitCodesHelp,
		SilenceErrors: true,
		SilenceUsage:  true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if err := g.backend.check(cmd); err != nil {
				return err
			}
			return g.setup()
		},
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageErr(err) })
	root.PersistentFlags().StringVar(&g.logLevel, "log-level", envOr("TGUARD_LOG", "warn"), "log level: debug, info, warn, error")
	root.PersistentFlags().BoolVarP(&g.quiet, "quiet", "q", false, "print errors only")
	root.PersistentFlags().BoolVarP(&g.verbose, "verbose", "v", false, "list every skipped file and bad line")
	root.AddCommand(newIndexCmd(g), newFlushCmd(g), newSearchCmd(g), newStatsCmd(g), newLockCmd(g), newVersionCmd(g))
	root.AddCommand(newSchemaCmd(g), newJournalCmd(g), newDeleteCmd(g), newMergeCmd(g))
	root.AddCommand(newServeCmd(g))
	addBackendFlags(root, &g.backend)
	root.SetHelpCommand(&cobra.Command{
		Use:   "help [command]",
		Short: "Help about any command, and the exit codes",
		RunE: func(c *cobra.Command, args []string) error {
			cmd, rest, err := root.Find(args)
			if err != nil || cmd == nil || len(rest) > 0 {
				return usageErr(fmt.Errorf("unknown help topic %q", strings.Join(args, " ")))
			}
			return cmd.Help()
		},
	})
	// Unknown subcommands are usage errors.
	root.Args = func(_ *cobra.Command, args []string) error {
		if len(args) > 0 {
			return usageErr(fmt.Errorf("unknown command %q", args[0]))
		}
		return nil
	}
	root.RunE = func(c *cobra.Command, _ []string) error { return c.Help() }
	addVersionFlag(root)
	return root
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func (g *globals) setup() error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(g.logLevel)); err != nil {
		return usageErr(fmt.Errorf("--log-level %q: want debug, info, warn or error", g.logLevel))
	}
	if g.quiet && g.verbose {
		return usageErr(errors.New("--quiet and --verbose: choose one"))
	}
	if g.quiet && level < slog.LevelError {
		level = slog.LevelError
	}
	g.log = slog.New(slog.NewTextHandler(g.stderr, &slog.HandlerOptions{Level: level}))
	if s := os.Getenv("TGUARD_CLOCK_SKEW"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			return usageErr(fmt.Errorf("TGUARD_CLOCK_SKEW=%q: %v", s, err))
		}
		g.skew = d
	}
	return nil
}

// lockOptions are the lock options the global settings imply.
func (g *globals) lockOptions() []lock.Option {
	opts := append([]lock.Option{lock.WithLogger(g.log)}, g.backend.options()...)
	if g.skew != 0 {
		opts = append(opts, lock.WithClock(lock.SkewedClock(g.skew)))
	}
	return opts
}

// exactArgs and minArgs are cobra's validators, as usage errors.
func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) != n {
			return usageErr(fmt.Errorf("want %s", what))
		}
		return nil
	}
}

func minArgs(n int, what string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) < n {
			return usageErr(fmt.Errorf("want %s", what))
		}
		return nil
	}
}

// requireIndex checks the --index flag.
// openNamedIndex opens the index named by --index for reading, after checking
// the flag was given.
func openNamedIndex(dir string) (*bridge.Index, error) {
	if err := requireIndex(dir); err != nil {
		return nil, err
	}
	return bridge.Open(dir)
}

func requireIndex(dir string) error {
	if dir == "" {
		return usageErr(errors.New("--index DIR is required"))
	}
	return nil
}
