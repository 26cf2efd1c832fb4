// Package payload reads and writes what every tguard commit stores in
// Tantivy's commit payload (meta.json): the fencing token and grant nonce
// of the lease the commit was made under, and how far each journal has
// been applied.
package payload

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
)

// Version is the version of the commit payload this code writes.
// Version 2 added the grant nonce, a token per journal and the eviction
// mark; version 1 payloads are read (their journals' tokens read as 0).
const Version = 2

// MaxJournals caps the journals a payload remembers: each keeps one
// entry for ever otherwise, and the payload is re-read before every commit.
const MaxJournals = 1000

// Payload is what every commit stores in Tantivy's commit payload
// (meta.json): the fencing token and grant nonce of the lease it was made
// under, and for each journal the highest sequence number it has applied
// and the token of the commit that applied it.
type Payload struct {
	Version int    `json:"v"`
	Token   uint64 `json:"token"`
	// Grant is random per Flush. Two grants that carry the same token (a
	// lease folder lost with no readable token floor) commit different
	// grants, and the bridge refuses to publish over a commit of the same
	// token with another grant.
	Grant   string          `json:"grant,omitempty"`
	Applied map[string]Mark `json:"applied,omitempty"`
	// Evicted is the highest token of a journal entry dropped from Applied
	// to keep it under MaxJournals (the oldest go first). A journal
	// missing from Applied whose own last commit is at or below it was
	// evicted, not lost (see journal.Journal.Confirmed).
	Evicted uint64 `json:"evicted,omitempty"`
}

// Mark is what a payload records of one journal.
type Mark struct {
	Seq   uint64 `json:"seq"`
	Token uint64 `json:"token"`
}

// UnmarshalJSON also reads version 1's bare sequence numbers.
func (m *Mark) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] != '{' {
		m.Token = 0
		return json.Unmarshal(b, &m.Seq)
	}
	type plain Mark
	return json.Unmarshal(b, (*plain)(m))
}

// Parse reads a commit payload. An index never committed by tguard
// (no payload) reads as the zero Payload.
func Parse(s *string) (Payload, error) {
	var p Payload
	if s == nil || *s == "" {
		return p, nil
	}
	if err := json.Unmarshal([]byte(*s), &p); err != nil {
		return Payload{}, fmt.Errorf("commit payload is not tguard's: %v", err)
	}
	if p.Version > Version {
		return Payload{}, fmt.Errorf("commit payload version %d is newer than this build (%d)", p.Version, Version)
	}
	return p, nil
}

// Encode returns the payload as stored.
func (p Payload) Encode() string {
	p.Version = Version
	b, _ := json.Marshal(p) // a struct of numbers and strings always marshals
	return string(b)
}

// Next is the payload of a commit under token and grant that applied
// journal up to seq, built on p: the other journals' marks are kept, the
// oldest beyond the cap are dropped and remembered in Evicted.
func (p Payload) Next(token uint64, grant, journal string, seq uint64) Payload {
	n := Payload{Token: token, Grant: grant, Applied: maps.Clone(p.Applied), Evicted: p.Evicted}
	if n.Applied == nil {
		n.Applied = map[string]Mark{}
	}
	n.Applied[journal] = Mark{Seq: seq, Token: token}
	if over := len(n.Applied) - MaxJournals; over > 0 {
		ids := slices.SortedFunc(maps.Keys(n.Applied), func(a, b string) int {
			return cmp.Or(cmp.Compare(n.Applied[a].Token, n.Applied[b].Token), cmp.Compare(a, b))
		})
		for _, id := range ids[:over] {
			n.Evicted = max(n.Evicted, n.Applied[id].Token)
			delete(n.Applied, id)
		}
	}
	return n
}

// ErrNone: meta.json has no payload field (an index tguard never
// committed, or one made by another tool).
var ErrNone = errors.New("no payload")

// FromMeta reads the payload of a meta.json's bytes.
func FromMeta(meta []byte) (Payload, error) {
	var m struct {
		Payload *string `json:"payload"`
	}
	dec := json.NewDecoder(bytes.NewReader(meta))
	if err := dec.Decode(&m); err != nil {
		return Payload{}, fmt.Errorf("meta.json: %v", err)
	}
	if m.Payload == nil {
		return Payload{}, ErrNone
	}
	return Parse(m.Payload)
}
