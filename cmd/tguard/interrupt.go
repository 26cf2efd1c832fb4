package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// interrupts turns the first SIGINT or SIGTERM into an orderly stop (the
// command stops adding, commits nothing half-done, releases the lease and
// keeps the journal) and the second into an exit at once: a person who
// presses Ctrl-C twice wants out, and the journal is safe either way
// (SQLite rolls back a transaction cut short).
type interrupts struct {
	done chan struct{} // closed at the first signal
	quit chan struct{}
	ch   chan os.Signal
	mu   sync.Mutex
	sig  os.Signal
}

func catchInterrupts(stderr io.Writer) *interrupts {
	i := &interrupts{done: make(chan struct{}), quit: make(chan struct{}), ch: make(chan os.Signal, 2)}
	signal.Notify(i.ch, os.Interrupt, syscall.SIGTERM)
	go func() {
		select {
		case s := <-i.ch:
			i.mu.Lock()
			i.sig = s
			i.mu.Unlock()
			close(i.done)
		case <-i.quit:
			return
		}
		select {
		case s := <-i.ch:
			fmt.Fprintf(stderr, "tguard: %v again: exiting at once; journaled documents stay journaled\n", s)
			os.Exit(signalCode(s))
		case <-i.quit:
		}
	}()
	return i
}

// stop restores the default handling of the signals.
func (i *interrupts) stop() {
	signal.Stop(i.ch)
	close(i.quit)
}

// fired reports whether a signal came.
func (i *interrupts) fired() bool {
	select {
	case <-i.done:
		return true
	default:
		return false
	}
}

// err is the error the command ends with after an interrupt: exit 128+N,
// as a shell reports a process killed by signal N.
func (i *interrupts) err(pending int, hint string) error {
	i.mu.Lock()
	s := i.sig
	i.mu.Unlock()
	return withCode(signalCode(s), fmt.Errorf("interrupted: %d documents journaled; `%s` applies them", pending, hint))
}

func signalCode(s os.Signal) int {
	if n, ok := s.(syscall.Signal); ok {
		return 128 + int(n)
	}
	return 128 + 2
}
