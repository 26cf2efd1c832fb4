package main

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tguard/tguard/bridge"
	"github.com/tguard/tguard/indexer"
	"github.com/tguard/tguard/lock"
)

// server answers serve's HTTP API.
type server struct {
	dir     string
	owner   string
	log     *slog.Logger
	ixr     *indexer.Indexer
	turns   *turns
	locker  *lock.Locker
	metrics *serveMetrics
	maxBody int64
	token   string

	mu  sync.Mutex
	idx *bridge.Index // searches; reopened when a search fails
}

func (s *server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /documents", s.auth(s.postDocuments))
	mux.HandleFunc("GET /search", s.auth(s.search))
	mux.HandleFunc("GET /documents/{id}/status", s.auth(s.docStatus))
	mux.HandleFunc("GET /lock", s.auth(s.lockStatus))
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.Handle("GET /metrics", s.auth(s.metrics.handler().ServeHTTP))
	return mux
}

// auth requires the bearer token when --token-file is set.
func (s *server) auth(h http.HandlerFunc) http.HandlerFunc {
	if s.token == "" {
		return h
	}
	want := []byte("Bearer " + s.token)
	return func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="tguard"`)
			writeError(w, http.StatusUnauthorized, "missing or wrong bearer token")
			return
		}
		h(w, r)
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	var buf bytes.Buffer
	_ = printJSON(&buf, v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(buf.Bytes())
}

type errorJSON struct {
	Error string `json:"error"`
	Line  int    `json:"line,omitempty"`
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, errorJSON{Error: msg})
}

// acceptJSON is the answer to POST /documents.
type acceptJSON struct {
	Accepted int      `json:"accepted"`
	Seqs     []uint64 `json:"seqs"`
	Owner    string   `json:"owner"`
}

// postDocuments journals a JSON document or JSON lines. The whole body is
// checked first: one bad line refuses the request and journals nothing.
func (s *server) postDocuments(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.maxBody))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body larger than %d bytes (--max-body)", s.maxBody))
		return
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, "reading the body: "+err.Error())
		return
	}
	docs, ids, line, err := parseDocuments(body, r.RemoteAddr)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, errorJSON{Error: err.Error(), Line: line})
		return
	}
	if len(docs) == 0 {
		writeError(w, http.StatusBadRequest, "no documents in the body")
		return
	}
	seqs, err := s.ixr.AcceptIdentified(docs, ids)
	if err != nil {
		s.log.Error("serve: journaling", "error", err)
		writeError(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	s.metrics.accepted(len(seqs), time.Since(start))
	s.turns.poke()
	writeJSON(w, http.StatusAccepted, acceptJSON{Accepted: len(seqs), Seqs: seqs, Owner: s.owner})
}

// parseDocuments reads one JSON object (which may span lines) or JSON
// lines. Each document must be an object with a non-empty string "id"; it
// is journaled as one line. A bad line is returned with its number
// (1-based). Each document is parsed once here (its id); the journal
// takes it as it is.
func parseDocuments(body []byte, from string) (docs []indexer.Doc, ids []string, line int, err error) {
	trimmed := bytes.TrimSpace(body)
	if bytes.IndexByte(trimmed, '\n') >= 0 && len(trimmed) > 0 && trimmed[0] == '{' && json.Valid(trimmed) {
		// One object over several lines: the index takes JSON lines.
		var buf bytes.Buffer
		_ = json.Compact(&buf, trimmed) // valid: cannot fail
		trimmed = buf.Bytes()
		id, err := indexer.DocID(trimmed)
		if err != nil {
			return nil, nil, 1, fmt.Errorf("line 1: %v", err)
		}
		return []indexer.Doc{{JSON: trimmed, Origin: "POST /documents from " + from}}, []string{id}, 0, nil
	}
	for i, raw := range bytes.Split(body, []byte("\n")) {
		raw = bytes.TrimSpace(raw)
		if len(raw) == 0 {
			continue
		}
		id, err := indexer.DocID(raw)
		if err != nil {
			return nil, nil, i + 1, fmt.Errorf("line %d: %v", i+1, err)
		}
		docs = append(docs, indexer.Doc{JSON: raw, Origin: fmt.Sprintf("POST /documents from %s line %d", from, i+1)})
		ids = append(ids, id)
	}
	return docs, ids, 0, nil
}

// search answers as tguard search --json prints.
func (s *server) search(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query().Get("q")
	if strings.TrimSpace(q) == "" {
		writeError(w, http.StatusBadRequest, "q: empty query")
		return
	}
	limit := 10
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("limit %q: want a number of at least 1", v))
			return
		}
		limit = n
	}
	var fields []string
	if v := r.URL.Query().Get("fields"); v != "" {
		for _, n := range strings.Split(v, ",") {
			if n = strings.TrimSpace(n); n != "" {
				fields = append(fields, n)
			}
		}
	}
	start := time.Now()
	res, err := s.searchRetrying(q, limit, fields)
	s.metrics.searched(time.Since(start), err)
	switch {
	case errors.Is(err, errNoIndex):
		writeError(w, http.StatusServiceUnavailable, err.Error())
	case errors.Is(err, bridge.ErrQuerySyntax), errors.Is(err, bridge.ErrInvalidArgument):
		writeError(w, http.StatusBadRequest, err.Error())
	case err != nil:
		writeError(w, http.StatusInternalServerError, err.Error())
	default:
		writeJSON(w, http.StatusOK, res)
	}
}

var errNoIndex = errors.New("the index does not exist yet (no document committed)")

// searchRetrying runs a search, reopening the index when it fails: on a
// share, another host's commit or garbage collection can remove segment
// files between the reader's reload and its opening them, and nothing
// across hosts prevents that. The next reload sees the newer commit.
func (s *server) searchRetrying(q string, limit int, fields []string) (bridge.SearchResult, error) {
	var err error
	deadline := time.Now().Add(searchRetryFor)
	for attempt := 0; ; attempt++ {
		var idx *bridge.Index
		if idx, err = s.index(); err != nil {
			return bridge.SearchResult{}, err
		}
		var res bridge.SearchResult
		res, err = idx.SearchFields(q, limit, fields)
		if err == nil || errors.Is(err, bridge.ErrQuerySyntax) || errors.Is(err, bridge.ErrInvalidArgument) {
			return res, err
		}
		s.log.Warn("serve: search failed; reopening the index", "attempt", attempt+1, "error", err)
		s.metrics.searchRetried()
		s.dropIndex(idx)
		wait := min(time.Duration(attempt+1)*20*time.Millisecond, 200*time.Millisecond)
		if time.Now().Add(wait).After(deadline) {
			return bridge.SearchResult{}, err
		}
		time.Sleep(wait)
	}
}

// searchRetryFor bounds how long a failing search is retried: longer than
// a share takes to show another host's renamed meta.json and collected
// files, short enough for a client's timeout.
const searchRetryFor = 2 * time.Second

// index is the open index for searches, opened on first use.
func (s *server) index() (*bridge.Index, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.idx != nil {
		return s.idx, nil
	}
	idx, err := openIndex(s.dir)
	if err != nil {
		return nil, err
	}
	if idx == nil {
		return nil, errNoIndex
	}
	s.idx = idx
	return idx, nil
}

// dropIndex forgets idx so that the next search opens the index again.
// The handle is not closed: a search on another goroutine may still use
// it (Close waits for them, then frees), so close it aside.
func (s *server) dropIndex(idx *bridge.Index) {
	s.mu.Lock()
	if s.idx == idx {
		s.idx = nil
	}
	s.mu.Unlock()
	go idx.Close()
}

func (s *server) closeIndex() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.idx != nil {
		s.idx.Close()
		s.idx = nil
	}
}

// docStatusJSON is the answer to GET /documents/{id}/status.
type docStatusJSON struct {
	ID string `json:"id"`
	// State: "pending" (journaled here, not committed yet), "committed",
	// or "unknown" (not journaled here and not in the index).
	State string `json:"state"`
	Seq   uint64 `json:"seq,omitempty"`
	// Token is the fencing token of the commit, when this instance knows it
	// (it made the commit); 0 for a document committed by another instance.
	Token uint64 `json:"token,omitempty"`
}

func (s *server) docStatus(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	st, err := s.ixr.DocState(id)
	switch {
	case err == nil && st.Committed:
		writeJSON(w, http.StatusOK, docStatusJSON{ID: id, State: "committed", Seq: st.Seq, Token: st.Token})
		return
	case err == nil:
		writeJSON(w, http.StatusOK, docStatusJSON{ID: id, State: "pending", Seq: st.Seq})
		return
	case !errors.Is(err, indexer.ErrNotJournaled):
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	token, _ := s.turns.committed.get(id)
	idx, err := s.index()
	if errors.Is(err, errNoIndex) {
		writeJSON(w, http.StatusNotFound, docStatusJSON{ID: id, State: "unknown"})
		return
	}
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	ids, err := idx.IDsWithPrefix(id)
	if err != nil {
		s.dropIndex(idx)
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	for _, got := range ids {
		if got == id {
			writeJSON(w, http.StatusOK, docStatusJSON{ID: id, State: "committed", Token: token})
			return
		}
	}
	writeJSON(w, http.StatusNotFound, docStatusJSON{ID: id, State: "unknown"})
}

func (s *server) lockStatus(w http.ResponseWriter, r *http.Request) {
	st, err := s.locker.Status(r.Context())
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, toStatusJSON(st))
}

func (s *server) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"ok": true})
}

// readyz: the index opens (or does not exist yet: the first commit creates
// it) and the journal takes a write.
func (s *server) readyz(w http.ResponseWriter, _ *http.Request) {
	out := map[string]any{"ok": true, "index": "ok", "journal": "ok"}
	code := http.StatusOK
	if _, err := s.index(); errors.Is(err, errNoIndex) {
		out["index"] = "not created yet"
	} else if err != nil {
		out["ok"], out["index"], code = false, err.Error(), http.StatusServiceUnavailable
	}
	if err := s.ixr.CheckJournal(); err != nil {
		out["ok"], out["journal"], code = false, err.Error(), http.StatusServiceUnavailable
	}
	writeJSON(w, code, out)
}
