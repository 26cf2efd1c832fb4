// Package serve runs tguard serve instances as real processes on loopback
// ports and talks to them over HTTP.
package serve

import (
	"testing"

	"github.com/tguard/tguard/tests/testbin"
)

var tguardBin testbin.Bin

// TestMain builds the CLI once (as "make build" does).
func TestMain(m *testing.M) { testbin.Main(m, &tguardBin) }
