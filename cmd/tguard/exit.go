package main

import (
	"errors"
	"strings"

	"github.com/tguard/tguard/indexer"
	"github.com/tguard/tguard/lock"
)

// Exit codes, as documented in "tguard help". 75 and 76 follow sysexits'
// EX_TEMPFAIL, as flock(1) -w uses a failure code for "not acquired".
const (
	exitOK        = 0
	exitError     = 1
	exitUsage     = 2
	exitNotLocked = 75 // the lease was not acquired within --wait
	exitLeaseLost = 76 // the lease was lost while the command ran
)

const exitCodesHelp = `Exit codes:
  0   success (lock exec: the command's own exit code)
  1   error; the message on stderr names the cause
  2   usage error: unknown command or flag, missing argument
  75  lease not acquired within --wait (the message names the holder)
  76  lease lost while working (lock exec: the command got SIGTERM)
  130 interrupted by SIGINT (Ctrl-C), 143 by SIGTERM: index, flush and delete
      committed nothing half-done, released the lease and kept the journal

With --json, a failure also prints {"error": "...", "code": N} on stdout.
`

// codedError carries an exit code.
type codedError struct {
	code int
	err  error
}

func (e *codedError) Error() string { return e.err.Error() }
func (e *codedError) Unwrap() error { return e.err }

func withCode(code int, err error) error {
	if err == nil {
		return nil
	}
	return &codedError{code: code, err: err}
}

func usageErr(err error) error { return withCode(exitUsage, err) }

// optionsErr is the exit code of a failed lock.New or indexer.New: bad
// options are usage errors; a file where the folder should be is not (it
// is exit 1, as in lock status).
func optionsErr(err error) error {
	if errors.Is(err, lock.ErrNotFolder) {
		return err
	}
	return usageErr(err)
}

// newErr is the exit code of a failed indexer.New or indexer.Merge: its
// options' errors as optionsErr says, the journal's and the index's 1.
func newErr(err error) error {
	if errors.Is(err, indexer.ErrOption) {
		return optionsErr(err)
	}
	return err
}

func exitCode(err error) int {
	var se *silentExit
	if errors.As(err, &se) {
		return se.code
	}
	var ce *codedError
	if errors.As(err, &ce) {
		return ce.code
	}
	return exitError
}

// oneLine keeps an error message on one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// silentExit ends tguard with a code and no message: lock exec passes on the
// command's own exit code, and the command has said what it had to say.
type silentExit struct{ code int }

func (e *silentExit) Error() string { return "" }
