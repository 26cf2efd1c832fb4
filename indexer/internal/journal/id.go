package journal

import (
	"crypto/rand"
	"encoding/hex"
)

// NewID is a new random id: a journal's (it keys the journal's progress in
// commit payloads) or a grant's nonce.
func NewID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b) // never fails (Go 1.24+)
	return hex.EncodeToString(b)
}
