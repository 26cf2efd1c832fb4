package main

import (
	"fmt"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progress shows files/s while walking and docs/s while applying: a bar on
// a terminal, a plain line every few seconds otherwise, nothing with --json.
type progress struct {
	g       *globals
	bar     *progressbar.ProgressBar
	plain   bool
	files   int
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
		p.bar = progressbar.NewOptions(-1,
			progressbar.OptionSetWriter(g.stderr),
			progressbar.OptionSetDescription("journaling"),
			progressbar.OptionSetItsString("files"),
			progressbar.OptionShowIts(),
			progressbar.OptionShowCount(),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish())
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
		fmt.Fprintf(p.g.stderr, "tguard: journaled %d files (%.0f files/s)\n", p.files, float64(p.files)/time.Since(p.start).Seconds())
	}
}

func (p *progress) applied(n int) {
	if p.bar != nil {
		p.bar.Describe("indexing")
		_ = p.bar.Set(n)
	} else if p.plain && time.Since(p.last) > 5*time.Second {
		p.last = time.Now()
		fmt.Fprintf(p.g.stderr, "tguard: indexed %d documents\n", n)
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
