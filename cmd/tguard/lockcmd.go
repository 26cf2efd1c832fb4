package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/tguard/tguard/lock"
)

func newLockCmd(g *globals) *cobra.Command {
	c := &cobra.Command{
		Use:   "lock",
		Short: "Inspect, hold or break the index's writer lease",
		Args:  exactArgs(0, "a subcommand: status, exec or break"),
		RunE:  func(c *cobra.Command, _ []string) error { return c.Help() },
	}
	c.AddCommand(newLockStatusCmd(g), newLockExecCmd(g), newLockBreakCmd(g))
	return c
}

// statusJSON is the contract of "lock status --json".
type statusJSON struct {
	Held        bool   `json:"held"`
	State       string `json:"state"`
	Owner       string `json:"owner"`
	Hostname    string `json:"hostname"`
	PID         int    `json:"pid"`
	Token       uint64 `json:"token"`
	ExpiresInMS int64  `json:"expires_in_ms"`
	AcquiredAt  string `json:"acquired_at,omitempty"`
	HolderDead  bool   `json:"holder_dead"`
	RecordError string `json:"record_error,omitempty"`
}

func toStatusJSON(s lock.Status) statusJSON {
	j := statusJSON{
		Held: s.Held, State: s.State, Owner: s.Owner, Hostname: s.Hostname, PID: s.PID,
		Token: s.Token, ExpiresInMS: s.ExpiresIn.Milliseconds(), HolderDead: s.Dead,
		RecordError: s.RecordError,
	}
	if !s.AcquiredAt.IsZero() {
		j.AcquiredAt = s.AcquiredAt.Format(time.RFC3339Nano)
	}
	return j
}

func printStatus(g *globals, s lock.Status, asJSON bool) error {
	if asJSON {
		return printJSON(g.stdout, toStatusJSON(s))
	}
	if !s.Held {
		fmt.Fprintf(g.stdout, "free (%s, last token %d)\n", s.State, s.Token)
		return nil
	}
	if s.Owner == "" {
		fmt.Fprintf(g.stdout, "held, token %d, holder record unreadable (%s); it ends only when it stays unchanged for a whole lease\n",
			s.Token, oneLine(s.RecordError))
		return nil
	}
	dead := ""
	if s.Dead {
		dead = " (holder is dead)"
	}
	fmt.Fprintf(g.stdout, "held by %s on %s, pid %d, token %d, since %s, expires in about %v%s\n",
		s.Owner, s.Hostname, s.PID, s.Token, s.AcquiredAt.Format(time.RFC3339), s.ExpiresIn.Round(time.Millisecond), dead)
	return nil
}

func newLockStatusCmd(g *globals) *cobra.Command {
	var dir string
	var asJSON bool
	c := &cobra.Command{
		Use:   "status --index DIR [--json]",
		Short: "Print who holds the lease (exit 0 whether held or free)",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			l, err := g.locker(dir)
			if err != nil {
				return err
			}
			defer l.Close()
			s, err := l.Status(cmd.Context())
			if err != nil {
				return err
			}
			return printStatus(g, s, asJSON)
		},
	}
	c.Flags().StringVar(&dir, "index", "", "index folder")
	c.Flags().BoolVar(&asJSON, "json", false, "print one JSON object")
	return c
}

func newLockBreakCmd(g *globals) *cobra.Command {
	var dir string
	var force, asJSON bool
	c := &cobra.Command{
		Use:   "break --index DIR [--force] [--json]",
		Short: "End a lease whose holder is provably dead (--force: any lease)",
		Long: `End a lease whose holder is provably dead: a process of this host that no
longer exists (or whose PID was reused, or this host rebooted since). A holder
on another host is never provably dead; wait for its lease to expire, or use
--force, which ends any lease: a live holder may then still write until its
deadline, and only the fencing token in the index refuses its commit.`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			l, err := g.locker(dir)
			if err != nil {
				return err
			}
			defer l.Close()
			before, err := l.Break(cmd.Context(), force)
			if errors.Is(err, lock.ErrNotProvablyDead) {
				return fmt.Errorf("not broken: the holder is not provably dead: %s on %s (pid %d) may be alive; --force breaks it anyway",
					before.Owner, before.Hostname, before.PID)
			}
			if err != nil {
				return err
			}
			if force && before.Held && !before.Dead {
				fmt.Fprintf(g.stderr, "tguard: warning: broke the lease of %s (pid %d on %s), which may be alive\n",
					before.Owner, before.PID, before.Hostname)
			}
			after, err := l.Status(cmd.Context())
			if err != nil {
				return err
			}
			return printStatus(g, after, asJSON)
		},
	}
	c.Flags().StringVar(&dir, "index", "", "index folder")
	c.Flags().BoolVar(&force, "force", false, "break the lease even if its holder may be alive")
	c.Flags().BoolVar(&asJSON, "json", false, "print one JSON object")
	return c
}

// locker opens the lock of the index folder dir (given with --index) for
// reading or breaking it.
func (g *globals) locker(dir string) (*lock.Locker, error) {
	if err := requireIndex(dir); err != nil {
		return nil, err
	}
	// A typo must not read as "free": a folder that does not exist has no
	// lease to report or break.
	if _, err := os.Stat(dir); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("index folder %s does not exist", dir)
		}
		return nil, err
	}
	return lock.New(dir, g.lockOptions()...)
}

// leaseFlags are the flags of commands that take the lease.
type leaseFlags struct {
	owner    string
	lease    time.Duration
	wait     time.Duration
	nonblock bool
	cmd      *cobra.Command
}

// add registers the lease flags. --wait and -n follow flock(1): no flag
// waits for ever, --wait 0 or -n tries once.
func (f *leaseFlags) add(c *cobra.Command) {
	f.cmd = c
	c.Flags().StringVar(&f.owner, "owner", "", "owner id (default hostname_pid)")
	c.Flags().DurationVar(&f.lease, "lease", lock.DefaultLeaseDuration, "lease duration")
	c.Flags().DurationVar(&f.wait, "wait", 0, "give up (exit 75) if not acquired within this time; 0: try once, as -n (default: wait for ever)")
	c.Flags().BoolVarP(&f.nonblock, "nonblock", "n", false, "give up (exit 75) at once if the lease is held (as --wait 0)")
}

// check validates --wait and -n.
func (f *leaseFlags) check() error {
	if f.wait < 0 {
		return usageErr(fmt.Errorf("--wait %v: must not be negative", f.wait))
	}
	if f.nonblock && f.wait > 0 {
		return usageErr(fmt.Errorf("-n/--nonblock and --wait %v: choose one", f.wait))
	}
	return nil
}

// noWait: try the lease once.
func (f *leaseFlags) noWait() bool {
	return f.nonblock || (f.cmd != nil && f.cmd.Flags().Changed("wait") && f.wait == 0)
}

// acquire takes the lease of dir as f says. Not acquired within --wait is
// exit 75, with the holder named.
func (f *leaseFlags) acquire(ctx context.Context, g *globals, dir string) (*lock.Locker, *lock.Lease, error) {
	if err := f.check(); err != nil {
		return nil, nil, err
	}
	opts := append(g.lockOptions(), lock.WithLeaseDuration(f.lease))
	if f.owner != "" {
		opts = append(opts, lock.WithOwner(f.owner))
	}
	l, err := lock.New(dir, opts...)
	if err != nil {
		return nil, nil, optionsErr(err)
	}
	if f.wait > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, f.wait)
		defer cancel()
	}
	acquire := l.Acquire
	if f.noWait() {
		acquire = l.TryAcquire
	}
	lease, err := acquire(ctx)
	if err != nil {
		l.Close()
		var held *lock.HeldError
		if errors.As(err, &held) {
			if f.noWait() {
				return nil, nil, withCode(exitNotLocked, fmt.Errorf("not acquired (-n/--wait 0: no waiting): %w", held))
			}
			return nil, nil, withCode(exitNotLocked, fmt.Errorf("not acquired within %v: %w", f.wait, held))
		}
		return nil, nil, err
	}
	return l, lease, nil
}

func newLockExecCmd(g *globals) *cobra.Command {
	var dir string
	lf := &leaseFlags{}
	c := &cobra.Command{
		Use:   "exec --index DIR [--owner ID] [--lease DUR] [--wait DUR | -n] -- CMD [ARG...]",
		Short: "Run a command while holding the lease, like flock(1)",
		Long: `Acquire the lease, run CMD with TGUARD_FENCING_TOKEN and TGUARD_OWNER in its
environment, release the lease, and exit with CMD's exit code. The index
folder is created if missing. As with flock(1), it waits for the lease as
long as it takes unless --wait says otherwise (--wait 0 or -n: try once);
not acquired: exit 75.

Nothing CMD starts may outlive the lease. CMD runs in its own process group
(the terminal's foreground group when tguard has the terminal); SIGINT,
SIGTERM and SIGHUP sent to tguard are passed on to the whole group. When CMD
exits, what it left running in its group is killed before the lease is
released. If tguard dies, the group is killed with it (Linux: a parent-death
signal and a sentinel process in the group; Windows: a job object).

If the lease is lost while CMD runs (broken or taken over), the group gets
SIGTERM at once and SIGKILL lease/20 later, never after the lease's deadline;
tguard exits 76. If renewals keep failing, the group gets SIGTERM lease/20
before the deadline and SIGKILL lease/40 before it, and tguard exits 76.

A stopped tguard (SIGSTOP, a debugger) cannot stop CMD, nor is a process
that leaves CMD's group (setsid) killed: a CMD that writes must fence its
writes with TGUARD_FENCING_TOKEN.`,
		Args: minArgs(1, "a command to run after --"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireIndex(dir); err != nil {
				return err
			}
			return runLocked(cmd.Context(), g, dir, lf, args)
		},
	}
	c.Flags().StringVar(&dir, "index", "", "index folder (created if missing)")
	lf.add(c)
	return c
}

func runLocked(ctx context.Context, g *globals, dir string, lf *leaseFlags, args []string) error {
	if ctx == nil {
		ctx = context.Background()
	}
	// SIGINT/SIGTERM while waiting stop the wait; while CMD runs they are
	// passed on to it.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)
	waitCtx, cancel := context.WithCancel(ctx)
	go func() {
		select {
		case <-sigs:
			cancel()
		case <-waitCtx.Done():
		}
	}()
	ch := newChild()
	l, lease, err := lf.acquire(waitCtx, g, dir)
	cancel()
	if err != nil {
		ch.abort()
		return err
	}
	defer l.Close()
	defer lease.Release(context.Background())

	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, g.stdout, g.stderr
	cmd.Env = append(os.Environ(),
		"TGUARD_FENCING_TOKEN="+strconv.FormatUint(lease.Token(), 10),
		"TGUARD_OWNER="+l.Owner())
	if err := ch.start(cmd); err != nil {
		return fmt.Errorf("starting %s: %w", args[0], err)
	}
	waitErr, stopped := superviseChild(g, ch, sigs, lease, lf.lease, args[0])
	if stopped != nil {
		return withCode(exitLeaseLost, stopped)
	}
	if err := lease.Release(context.Background()); err != nil {
		if errors.Is(err, lock.ErrLeaseLost) {
			return withCode(exitLeaseLost, fmt.Errorf("lease lost while %s ran: %v", args[0], err))
		}
		fmt.Fprintf(g.stderr, "tguard: warning: %v\n", err)
	}
	return childExit(waitErr)
}

// superviseChild waits for the command ch to exit, passing signals on, and
// stops it when the lease is lost or about to be: SIGTERM, then SIGKILL
// before the lease's deadline on this process's clock (lease.Remaining),
// as stopLeads says. It returns cmd.Wait's result and, if tguard stopped
// the command for the lease, why.
func superviseChild(g *globals, ch *child, sigs <-chan os.Signal, lease *lock.Lease, dur time.Duration, name string) (waitErr, stopped error) {
	termLead, killLead := stopLeads(dur)
	term := time.NewTimer(max(lease.Remaining()-termLead, 0))
	defer term.Stop()
	var kill *time.Timer
	var killC <-chan time.Time
	armKill := func(d time.Duration) {
		if kill == nil {
			kill = time.NewTimer(max(d, 0))
		} else {
			kill.Reset(max(d, 0))
		}
		killC = kill.C
	}
	defer func() {
		if kill != nil {
			kill.Stop()
		}
	}()
	leaseDone := lease.Done()
	for {
		select {
		case err := <-ch.exited:
			return err, stopped
		case s := <-sigs:
			ch.signal(s)
		case <-leaseDone:
			leaseDone = nil
			if !errors.Is(lease.Err(), lock.ErrLeaseLost) {
				continue
			}
			// Lost: a renewal found the lease broken or taken over, or
			// its deadline passed. SIGKILL after a short grace, never
			// after the deadline, and never later than a SIGKILL already
			// planned.
			wait := min(termLead, lease.Remaining()-killLead)
			if stopped == nil {
				stopped = fmt.Errorf("lease lost while %s ran: %v", name, lease.Err())
				fmt.Fprintf(g.stderr, "tguard: lease lost (%v); stopping %s: SIGTERM now, SIGKILL in %v\n",
					lease.Err(), name, max(wait, 0).Round(time.Millisecond))
				ch.terminate()
				term.Stop()
			}
			armKill(wait)
		case <-term.C:
			rem := lease.Remaining()
			if rem > termLead {
				term.Reset(rem - termLead) // renewed since
				continue
			}
			if stopped != nil {
				continue
			}
			stopped = fmt.Errorf("lease not renewed: %s stopped before the lease's deadline", name)
			fmt.Fprintf(g.stderr, "tguard: lease not renewed and its deadline is in %v; stopping %s: SIGTERM now, SIGKILL in %v\n",
				max(rem, 0).Round(time.Millisecond), name, max(rem-killLead, 0).Round(time.Millisecond))
			ch.terminate()
			armKill(rem - killLead)
		case <-killC:
			if rem := lease.Remaining(); lease.Err() == nil && rem > killLead {
				// Renewed after all: the command is stopping on its
				// own; SIGKILL only if it is still there before the new
				// deadline.
				kill.Reset(rem - killLead)
				continue
			}
			ch.kill()
			killC = nil
		}
	}
}

// childExit turns the child's end into tguard's: its exit code, or 128+N
// for a signal N, as shells do.
func childExit(err error) error {
	if err == nil {
		return nil
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return err
	}
	code := ee.ExitCode()
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		code = 128 + int(ws.Signal())
	}
	return &silentExit{code: code}
}
