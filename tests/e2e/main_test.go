// Package e2e runs the built tguard binary as a user would.
package e2e

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/tguard/tguard/tests/testbin"
)

var tguardBin testbin.Bin

// TestMain builds the CLI once (as "make build" does).
func TestMain(m *testing.M) { testbin.Main(m, &tguardBin, testbin.Tags("failpoints")) }

// tguard runs the binary with args and extra environment.
func tguard(t *testing.T, env []string, args ...string) testbin.Result {
	t.Helper()
	return tguardBin.Command(args...).With(env...).Run(t)
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
