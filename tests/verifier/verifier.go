// Package verifier checks mutual exclusion from outside the lock, in the
// manner of Lucene's LockVerifyServer: every contender, once it believes it
// holds the lock, tells a server "acquired <id> <token>" over TCP and waits
// for the server's echo before it goes on; before it gives the lock back it
// says "released <id> <token>" and waits again. Because each contender waits
// for the echo, the order in which the server records the lines is the true
// order of those events, and the server alone can tell whether two
// contenders ever believed they held the lock at once.
//
// The server records three kinds of violation:
//
//   - overlap: an "acquired" while another contender holds;
//   - foreign release: a "released" by a contender that does not hold (or
//     holds another token);
//   - bad token: an acquired token not strictly greater than every token
//     acquired before it.
//
// Lines that cannot be parsed are violations too (a harness bug must not
// pass for a clean run).
//
// The protocol is one line per event, answered by the same line:
//
//	-> acquired a1.17 42
//	<- acquired a1.17 42
//
// A line the server cannot parse is answered "error <reason>".
package verifier

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Event is one line the server accepted, in the server's order.
type Event struct {
	Seq   int       // 1, 2, ... in the order the server recorded them
	At    time.Time // when the server recorded it
	Kind  string    // "acquired" or "released"
	ID    string    // the contender
	Token uint64
	Conn  int // which connection sent it (1, 2, ...)
}

func (e Event) String() string {
	return fmt.Sprintf("#%d %s %s %s token %d (conn %d)", e.Seq, e.At.Format("15:04:05.000000"), e.Kind, e.ID, e.Token, e.Conn)
}

// Report is what the server has seen so far.
type Report struct {
	// Acquired counts "acquired" lines; Cycles counts "released" lines that
	// matched a holder, i.e. completed acquire/release cycles.
	Acquired, Cycles int
	// Violations describes every violation, in order, one line each.
	Violations []string
	// Overlaps, ForeignReleases, BadTokens and Malformed count the
	// violations by kind.
	Overlaps, ForeignReleases, BadTokens, Malformed int
	// Tokens are the tokens of the "acquired" lines, in the server's order.
	Tokens []uint64
	// Holders are the contenders that hold now ("id token"), sorted;
	// normally none or one.
	Holders []string
}

// Server is a running verifier.
type Server struct {
	ln net.Listener

	mu        sync.Mutex
	events    []Event
	rep       Report
	holders   map[string]uint64 // id -> token
	maxToken  uint64
	maxHolder string // who acquired maxToken
	conns     map[int]net.Conn
	nextConn  int
	changed   chan struct{} // closed and replaced on every event
	closed    bool
	onViolate func(string)

	wg sync.WaitGroup
}

// Start starts a server on 127.0.0.1 (a free port) and stops it when the
// test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	s, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatalf("verifier: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// Listen starts a server on addr.
func Listen(addr string) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &Server{ln: ln, holders: map[string]uint64{}, conns: map[int]net.Conn{}, changed: make(chan struct{})}
	s.wg.Add(1)
	go s.acceptLoop()
	return s, nil
}

// Addr is the address contenders dial ("127.0.0.1:PORT").
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops the server and closes every connection.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	_ = s.ln.Close()
	for _, c := range s.conns {
		_ = c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *Server) acceptLoop() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			_ = c.Close()
			return
		}
		s.nextConn++
		n := s.nextConn
		s.conns[n] = c
		s.wg.Add(1)
		s.mu.Unlock()
		go s.serve(n, c)
	}
}

func (s *Server) serve(n int, c net.Conn) {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.conns, n)
		s.mu.Unlock()
		_ = c.Close()
	}()
	r := bufio.NewReader(c)
	w := bufio.NewWriter(c)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			if strings.TrimSpace(line) != "" {
				// A partial line at EOF: the contender died mid-line.
				s.record(n, strings.TrimSpace(line))
			}
			return
		}
		line = strings.TrimRight(line, "\r\n")
		reply := s.record(n, line)
		// The contender waits for the reply: what the hook looks at (the
		// lock's state on disk) is as it was when the violation happened,
		// as far as this contender is concerned.
		if _, err := w.WriteString(reply + "\n"); err != nil {
			return
		}
		if err := w.Flush(); err != nil {
			return
		}
	}
}

// Record takes one line as if a contender had sent it (on "connection 0")
// and returns the server's reply. The test uses it to report, in the true
// order, what a contender could not say itself (a holder it killed).
func (s *Server) Record(line string) string { return s.record(0, line) }

// OnViolation sets a function called with every violation as it is found,
// before the contender that caused it gets its reply: while it runs, that
// contender still believes it holds the lock, so it can look at the lock's
// state at the moment of the violation. It runs on the connection's
// goroutine, outside the server's lock.
func (s *Server) OnViolation(f func(violation string)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onViolate = f
}

// record applies one line and returns the reply: the line itself, or
// "error <reason>".
func (s *Server) record(conn int, line string) string {
	s.mu.Lock()
	before := len(s.rep.Violations)
	reply := s.apply(conn, line)
	found := append([]string(nil), s.rep.Violations[before:]...)
	hook := s.onViolate
	s.notify()
	s.mu.Unlock()
	if hook != nil {
		for _, v := range found {
			hook(v)
		}
	}
	return reply
}

// apply records one line; s.mu is held.
func (s *Server) apply(conn int, line string) string {
	kind, id, token, perr := parseLine(line)
	if perr != nil {
		s.rep.Malformed++
		s.violate(fmt.Sprintf("malformed line %q from conn %d: %v", line, conn, perr))
		return "error " + perr.Error()
	}
	ev := Event{Seq: len(s.events) + 1, At: time.Now(), Kind: kind, ID: id, Token: token, Conn: conn}
	s.events = append(s.events, ev)
	switch kind {
	case "acquired":
		if len(s.holders) > 0 {
			s.rep.Overlaps++
			s.violate(fmt.Sprintf("overlap: event #%d: %s acquired token %d while %s held", ev.Seq, id, token, s.holderList()))
		}
		if s.rep.Acquired > 0 && token <= s.maxToken {
			s.rep.BadTokens++
			s.violate(fmt.Sprintf("bad token: event #%d: %s acquired token %d, not greater than token %d acquired before by %s",
				ev.Seq, id, token, s.maxToken, s.maxHolder))
		}
		if s.rep.Acquired == 0 || token > s.maxToken {
			s.maxToken, s.maxHolder = token, id
		}
		s.rep.Acquired++
		s.rep.Tokens = append(s.rep.Tokens, token)
		s.holders[id] = token
	case "released":
		if held, ok := s.holders[id]; ok && held == token {
			delete(s.holders, id)
			s.rep.Cycles++
		} else {
			s.rep.ForeignReleases++
			who := s.holderList()
			if who == "" {
				who = "nobody"
			}
			s.violate(fmt.Sprintf("foreign release: event #%d: %s released token %d while %s held", ev.Seq, id, token, who))
		}
	}
	return line
}

func (s *Server) violate(msg string) { s.rep.Violations = append(s.rep.Violations, msg) }

// holderList renders the holders as "a1.3 (token 7), b2.9 (token 8)".
func (s *Server) holderList() string {
	return strings.Join(s.sortedHolders(), ", ")
}

func (s *Server) sortedHolders() []string {
	out := make([]string, 0, len(s.holders))
	for id, tok := range s.holders {
		out = append(out, fmt.Sprintf("%s (token %d)", id, tok))
	}
	sort.Strings(out)
	return out
}

func (s *Server) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// Report returns a copy of what the server has seen so far.
func (s *Server) Report() Report {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.rep
	r.Violations = append([]string(nil), s.rep.Violations...)
	r.Tokens = append([]uint64(nil), s.rep.Tokens...)
	r.Holders = s.sortedHolders()
	return r
}

// Events returns a copy of the events recorded so far, in order.
func (s *Server) Events() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Event(nil), s.events...)
}

// Await waits until cond holds for the events recorded so far, or timeout
// passes; it reports whether cond held.
func (s *Server) Await(timeout time.Duration, cond func([]Event) bool) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		ok := cond(s.events)
		ch := s.changed
		s.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-ch:
		case <-deadline.C:
			s.mu.Lock()
			defer s.mu.Unlock()
			return cond(s.events)
		}
	}
}

// Context renders the events around event seq (n either side), for a
// failure message.
func (s *Server) Context(seq, n int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var b strings.Builder
	for i := max(seq-1-n, 0); i < min(seq+n, len(s.events)); i++ {
		mark := "  "
		if s.events[i].Seq == seq {
			mark = "=>"
		}
		fmt.Fprintf(&b, "%s %s\n", mark, s.events[i])
	}
	return b.String()
}

// parseLine splits a protocol line into its kind, contender id and token.
func parseLine(line string) (kind, id string, token uint64, err error) {
	f := strings.Fields(line)
	if len(f) != 3 {
		return "", "", 0, fmt.Errorf("want 3 fields, got %d", len(f))
	}
	if f[0] != "acquired" && f[0] != "released" {
		return "", "", 0, fmt.Errorf("unknown event %q", f[0])
	}
	token, err = strconv.ParseUint(f[2], 10, 64)
	if err != nil {
		return "", "", 0, fmt.Errorf("token %q: %w", f[2], err)
	}
	return f[0], f[1], token, nil
}

// validID reports whether id can travel in one field of a line.
func validID(id string) error {
	if id == "" {
		return errors.New("empty contender id")
	}
	if strings.ContainsAny(id, " \t\r\n") {
		return fmt.Errorf("contender id %q contains white space", id)
	}
	return nil
}
