package sharelock_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/tguard/tguard/tests/helperproc"
	"github.com/tguard/tguard/tests/testbin"
	"github.com/tguard/tguard/tests/verifier"
)

// tguardBin is the tguard binary built for this test run; testBin is this
// test binary, which the contenders re-execute.
var (
	tguardBin testbin.Bin
	testBin   string
)

func TestMain(m *testing.M) {
	// A contender: the command a tguard lock exec runs.
	helperproc.Main(helperproc.Roles{verifier.ContenderRole: verifier.Contend})
	var err error
	if testBin, err = os.Executable(); err != nil {
		fmt.Fprintf(os.Stderr, "sharelock: %v\n", err)
		os.Exit(1)
	}
	testbin.Main(m, &tguardBin)
}
