package main

import (
	"fmt"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/tguard/tguard/lock"
	"golang.org/x/term"
)

// progress says what index and flush are doing: journaling files (with a
// rate), waiting for the lease (and for whom), indexing N/M documents (with
// a rate), committing. A bar on a terminal, a plain line every few seconds
// otherwise, nothing with --json or --quiet.
type progress struct {
	g       *globals
	bar     *progressbar.ProgressBar
	plain   bool
	files   int
	total   int
	last    time.Time
	start   time.Time
	stopped bool
}

func newProgress(g *globals, quiet bool) *progress {
	p := &progress{g: g, start: time.Now(), last: time.Now()}
	if quiet {
		return p
	}
	if f, ok := g.stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.bar = p.newBar(-1, "journaling", "files")
	} else {
		p.plain = true
	}
	return p
}

func (p *progress) file() {
	p.files++
	if p.bar != nil {
		_ = p.bar.Add(1)
	} else if p.plain && time.Since(p.last) > 5*time.Second {
		p.last = time.Now()
		fmt.Fprintf(p.g.stderr, "tguard: journaling: %d files (%.0f files/s)\n", p.files, float64(p.files)/time.Since(p.start).Seconds())
	}
}

// waiting says whom the command waits for: the one thing a person may
// have to act on, so it is printed even when not on a terminal.
func (p *progress) waiting(holder lock.Status) {
	what := "waiting for the lease"
	if holder.Owner != "" {
		what = fmt.Sprintf("waiting for the lease held by %s on %s (pid %d)", holder.Owner, holder.Hostname, holder.PID)
	}
	switch {
	case p.bar != nil:
		p.bar.Describe(what)
		_ = p.bar.RenderBlank()
	case p.plain:
		fmt.Fprintf(p.g.stderr, "tguard: %s\n", what)
	}
}

// applying starts the indexing phase with total journaled entries.
func (p *progress) applying(total int) {
	p.total = total
	p.start, p.last = time.Now(), time.Now()
	if p.bar != nil {
		_ = p.bar.Finish() // ends its spinner's ticker; clears it
		p.bar = p.newBar(max(total, 1), "indexing", "docs")
	}
}

// newBar is a bar on the terminal: a count and a rate of unit, with a
// total when max is not -1.
func (p *progress) newBar(max int, what, unit string) *progressbar.ProgressBar {
	return progressbar.NewOptions(max,
		progressbar.OptionSetWriter(p.g.stderr),
		progressbar.OptionSetDescription(what),
		progressbar.OptionSetItsString(unit),
		progressbar.OptionShowIts(),
		progressbar.OptionShowCount(),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish())
}

func (p *progress) applied(n int) {
	what := "indexing"
	if n >= p.total {
		what = "committing"
	}
	if p.bar != nil {
		p.bar.Describe(what)
		_ = p.bar.Set(n)
	} else if p.plain && time.Since(p.last) > 5*time.Second {
		p.last = time.Now()
		fmt.Fprintf(p.g.stderr, "tguard: %s: %d/%d documents (%.0f docs/s)\n", what, n, p.total, float64(n)/time.Since(p.start).Seconds())
	}
}

// clear removes the bar before a message line.
func (p *progress) clear() {
	if p.bar != nil {
		_ = p.bar.Clear()
	}
}

func (p *progress) finish() {
	if p.bar != nil && !p.stopped {
		p.stopped = true
		_ = p.bar.Finish()
	}
}
