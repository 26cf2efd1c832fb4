package indexer

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/tguard/tguard/indexer/internal/payload"
)

// tokenFloor returns the lease's token floor for the index in dir: the
// token of its last commit. The lease never grants a token at or below it,
// so tokens stay anchored to the index even when the lease folder is lost
// (removed by an operator "clearing a stale lock", or left out of a copy).
//
// A missing meta.json (a new index) and a meta.json without a payload (an
// index tguard never committed) give 0. A meta.json that cannot be read or
// parsed fails the grant: guessing a floor could hand out a used token.
func tokenFloor(dir string) func(context.Context) (uint64, error) {
	path := filepath.Join(dir, "meta.json")
	return func(context.Context) (uint64, error) {
		b, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			return 0, nil
		}
		if err != nil {
			return 0, fmt.Errorf("reading the index's last token: %w", err)
		}
		p, err := payload.FromMeta(b)
		if errors.Is(err, payload.ErrNone) {
			return 0, nil
		}
		if err != nil {
			return 0, fmt.Errorf("reading the index's last token from %s: %w", path, err)
		}
		return p.Token, nil
	}
}
