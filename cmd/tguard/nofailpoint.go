//go:build !failpoints

package main

import (
	"errors"
	"os"

	"github.com/tguard/tguard/indexer"
)

// failpointOptions refuses TGUARD_FAILPOINT: this build cannot stop or
// kill itself at a step, and a test that sets it must not pass believing
// it did (only a build with -tags failpoints can, see failpoint.go).
func failpointOptions() ([]indexer.Option, error) {
	if os.Getenv("TGUARD_FAILPOINT") != "" {
		return nil, usageErr(errors.New("TGUARD_FAILPOINT is set, but this tguard was built without failpoints (go build -tags failpoints)"))
	}
	return nil, nil
}
