package indexer

import (
	"encoding/json"
	"fmt"
)

// payloadVersion is the version of the commit payload this code writes.
const payloadVersion = 1

// Payload is what every commit stores in Tantivy's commit payload
// (meta.json): the fencing token of the lease it was made under, and for
// each owner the highest journal sequence number it has applied.
type Payload struct {
	Version int               `json:"v"`
	Token   uint64            `json:"token"`
	Applied map[string]uint64 `json:"applied,omitempty"`
}

// ParsePayload reads a commit payload. An index never committed by tguard
// (no payload) reads as the zero Payload.
func ParsePayload(s *string) (Payload, error) {
	var p Payload
	if s == nil || *s == "" {
		return p, nil
	}
	if err := json.Unmarshal([]byte(*s), &p); err != nil {
		return Payload{}, fmt.Errorf("commit payload is not tguard's: %v", err)
	}
	if p.Version > payloadVersion {
		return Payload{}, fmt.Errorf("commit payload version %d is newer than this build (%d)", p.Version, payloadVersion)
	}
	return p, nil
}

// Encode returns the payload as stored.
func (p Payload) Encode() string {
	p.Version = payloadVersion
	b, _ := json.Marshal(p) // a struct of numbers and strings always marshals
	return string(b)
}
