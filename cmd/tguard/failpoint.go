//go:build failpoints

package main

import (
	"os"

	"github.com/tguard/tguard/indexer"
)

// failpointOptions passes TGUARD_FAILPOINT to the indexer: a build with
// -tags failpoints, for the crash and pause tests, stops or kills itself
// at the step it names (indexer.WithFailpoint).
func failpointOptions() ([]indexer.Option, error) {
	return []indexer.Option{indexer.WithFailpoint(os.Getenv("TGUARD_FAILPOINT"))}, nil
}
