package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/tguard/tguard/bridge"
	"github.com/tguard/tguard/indexer"
	"github.com/tguard/tguard/lock"
)

// serveFlags are the flags of tguard serve.
type serveFlags struct {
	dir         string
	listen      string
	journal     string
	schema      string
	tokenFile   string
	logFormat   string
	commitEvery time.Duration
	maxBody     int64
	maxApply    int
	memory      uint64
	threads     int
	lease       leaseFlags
}

// defaultListen is loopback only: serve has no authentication unless
// --token-file is given, so exposing it is a decision the operator makes.
const defaultListen = "127.0.0.1:7700"

func newServeCmd(g *globals) *cobra.Command {
	f := &serveFlags{}
	c := &cobra.Command{
		Use:   "serve --index DIR [--listen ADDR] [--owner ID] [--lease DUR] [--journal FILE] [--commit-every DUR]",
		Short: "Serve the index over HTTP: documents in, searches out, taking turns as its writer",
		Long: `Serve the index over HTTP. Several instances may serve one index folder
(on one host or on a share): documents posted to any of them are journaled
locally and committed by that instance when it holds the lease; searches
run on every instance without the lease.

  POST /documents          a JSON document or JSON lines (each with a
                           string "id"); 202 {"accepted":N,"seqs":[...]} once
                           journaled durably; 400 names the bad line; 413
                           above --max-body
  GET  /search?q=&limit=&fields=   hits as tguard search --json prints them
  GET  /documents/{id}/status      pending or committed (with the token)
  GET  /lock               the lease as tguard lock status --json prints it
  GET  /healthz, /readyz   live; index opens and journal writable
  GET  /metrics            Prometheus metrics

Turn-taking: an instance with pending documents asks for the lease every
--commit-every, applies at most --max-apply of them, commits and releases
it, so an instance with nothing pending never holds the lease and a waiting
instance is granted it between two rounds.

SIGTERM or SIGINT: stop accepting, finish the requests under way, commit if
the lease is held, release it, exit 0. Documents journaled and not
committed stay in the journal and are committed when the instance starts
again (or by tguard flush with the same --owner and --journal).

The default address is loopback only. There is no authentication unless
--token-file names a file holding a bearer token; put a TLS proxy in front
to expose it beyond one host.`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := requireIndex(f.dir); err != nil {
				return err
			}
			return runServe(cmd.Context(), g, f)
		},
	}
	c.Flags().StringVar(&f.dir, "index", "", "index folder (created if missing)")
	c.Flags().StringVar(&f.listen, "listen", defaultListen, "address to listen on (host:port; port 0 picks one)")
	c.Flags().StringVar(&f.journal, "journal", "", "journal file on a local disk (default: per-user state folder, keyed by index and owner)")
	c.Flags().StringVar(&f.schema, "schema", "", "schema for a new index (Tantivy's schema JSON, inline or a file name)")
	c.Flags().StringVar(&f.tokenFile, "token-file", "", "require \"Authorization: Bearer TOKEN\" with the token in this file (except /healthz and /readyz)")
	c.Flags().StringVar(&f.logFormat, "log-format", "text", "log format: text or json")
	c.Flags().DurationVar(&f.commitEvery, "commit-every", time.Second, "how often an instance with pending documents asks for the lease and commits")
	c.Flags().Int64Var(&f.maxBody, "max-body", 32<<20, "largest request body in bytes (413 above)")
	c.Flags().IntVar(&f.maxApply, "max-apply", 200_000, "most documents one turn with the lease applies")
	c.Flags().Uint64Var(&f.memory, "memory", indexer.DefaultMemoryBudget, "writer memory budget in bytes")
	c.Flags().IntVar(&f.threads, "threads", 0, "indexing threads (0: Tantivy's choice)")
	f.lease.add(c)
	c.Flags().Lookup("owner").Usage = "owner id, also the key of the default journal (default: hostname:port); give each instance on one host its own"
	// serve waits for the lease on its own schedule: no --wait / -n.
	_ = c.Flags().MarkHidden("wait")
	_ = c.Flags().MarkHidden("nonblock")
	return c
}

func (f *serveFlags) check() error {
	switch {
	case f.commitEvery <= 0:
		return usageErr(fmt.Errorf("--commit-every %v: must be positive", f.commitEvery))
	case f.maxBody < 1:
		return usageErr(fmt.Errorf("--max-body %d: must be at least 1", f.maxBody))
	case f.maxApply < 1:
		return usageErr(fmt.Errorf("--max-apply %d: must be at least 1", f.maxApply))
	case f.logFormat != "text" && f.logFormat != "json":
		return usageErr(fmt.Errorf("--log-format %q: want text or json", f.logFormat))
	}
	return nil
}

func runServe(ctx context.Context, g *globals, f *serveFlags) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if err := f.check(); err != nil {
		return err
	}
	if f.logFormat == "json" {
		g.log = slog.New(slog.NewJSONHandler(g.stderr, &slog.HandlerOptions{Level: logLevel(g)}))
	}
	token, err := readToken(f.tokenFile)
	if err != nil {
		return err
	}
	schema, err := checkSchema(g, f.dir, f.schema)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		return usageErr(fmt.Errorf("--listen %s: %v", f.listen, err))
	}
	defer ln.Close()
	owner := f.lease.owner
	if owner == "" {
		host, err := os.Hostname()
		if err != nil {
			return err
		}
		// hostname:port: two instances on one host get their own journals.
		owner = host + ":" + portOf(ln.Addr())
	}
	if err := checkJournalFlag(f.journal); err != nil {
		return err
	}
	m := newServeMetrics()
	t := &turns{log: g.log, every: f.commitEvery, metrics: m, kick: make(chan struct{}, 1),
		committed: newRecentCommits(100_000)}
	lockOpts := append(g.lockOptions(), lock.WithLeaseDuration(f.lease.lease), lock.WithOwner(owner))
	lockOpts = append(lockOpts, lock.WithRenewObserver(m.renewed))
	opts := []indexer.Option{
		indexer.WithLogger(g.log), indexer.WithThreads(f.threads), indexer.WithSchema(schema),
		indexer.WithLockOptions(lockOpts...), indexer.WithMaxApply(f.maxApply),
		indexer.WithOnAcquired(t.acquired),
	}
	if f.journal != "" {
		opts = append(opts, indexer.WithJournal(f.journal))
	}
	if f.memory != indexer.DefaultMemoryBudget {
		opts = append(opts, indexer.WithMemoryBudget(f.memory))
	}
	ixr, err := indexer.New(f.dir, opts...)
	if err != nil {
		return newErr(err)
	}
	defer ixr.Close()
	t.ixr = ixr
	status, err := lock.New(f.dir, lockOpts...) // for GET /lock: reads only
	if err != nil {
		return optionsErr(err)
	}
	defer status.Close()

	s := &server{dir: f.dir, log: g.log, ixr: ixr, turns: t, locker: status, metrics: m,
		maxBody: f.maxBody, token: token, owner: owner}
	m.register(s)
	defer s.closeIndex()
	srv := &http.Server{Handler: s.routes(), ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(g.log.Handler(), slog.LevelWarn)}

	sigCtx, stopSignals := signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGINT)
	defer stopSignals()
	turnsCtx, stopTurns := context.WithCancel(context.Background())
	turnsDone := make(chan struct{})
	go func() { defer close(turnsDone); t.run(turnsCtx) }()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	if !g.quiet {
		fmt.Fprintf(g.stderr, "tguard: serving %s on http://%s as %s (journal %s)\n", f.dir, ln.Addr(), owner, ixr.JournalPath())
	}
	g.log.Info("serve: listening", "addr", ln.Addr().String(), "index", f.dir, "owner", owner, "journal", ixr.JournalPath())

	var serveErr error
	select {
	case <-sigCtx.Done():
	case serveErr = <-served:
	}
	stopSignals() // a second signal now ends the process at once
	g.log.Info("serve: shutting down")
	// Stop accepting; requests under way finish, so every 202 sent is a
	// journaled document.
	shutCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		g.log.Warn("serve: shutdown", "error", err)
	}
	// A turn that holds the lease commits and releases; one that waits for
	// the lease stops waiting.
	stopTurns()
	<-turnsDone
	if n, err := ixr.Pending(); err == nil && n > 0 {
		g.log.Info("serve: documents stay journaled for the next start", "pending", n)
	}
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return serveErr
	}
	return nil
}

func portOf(a net.Addr) string {
	if ta, ok := a.(*net.TCPAddr); ok {
		return fmt.Sprint(ta.Port)
	}
	s := a.String()
	return s[strings.LastIndex(s, ":")+1:]
}

// readToken reads the bearer token of --token-file ("" without it).
func readToken(path string) (string, error) {
	if path == "" {
		return "", nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", usageErr(fmt.Errorf("--token-file: %v", err))
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", usageErr(fmt.Errorf("--token-file %s is empty", path))
	}
	return tok, nil
}

// openIndex opens the index for searching, nil while it does not exist yet.
func openIndex(dir string) (*bridge.Index, error) {
	ix, err := bridge.Open(dir)
	if errors.Is(err, bridge.ErrNotFound) || errors.Is(err, bridge.ErrNotAnIndex) {
		return nil, nil
	}
	return ix, err
}

// logLevel is the level --log-level and -q chose (checked by setup).
func logLevel(g *globals) slog.Level {
	var level slog.Level
	_ = level.UnmarshalText([]byte(g.logLevel))
	if g.quiet && level < slog.LevelError {
		level = slog.LevelError
	}
	return level
}
