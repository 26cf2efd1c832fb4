package indexer

import (
	"crypto/rand"
	"encoding/hex"
)

func newJournalID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b) // never fails (Go 1.24+)
	return hex.EncodeToString(b)
}
