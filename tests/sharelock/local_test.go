package sharelock_test

import (
	"fmt"
	"testing"
	"time"
)

// localCyclesEnv sets the cycles per contender loop of TestLocalDisk.
const localCyclesEnv = "TGUARD_LOCAL_CYCLES"

// localLoops is eight contender loops on one local folder; index "" makes
// them the unlocked control.
func localLoops(dir, index string, lease time.Duration) []contender {
	var out []contender
	for i := 1; i <= 8; i++ {
		out = append(out, contender{id: fmt.Sprintf("l%d", i), mount: dir, index: index,
			lease: lease, holdMax: 2 * time.Millisecond})
	}
	return out
}

// The same verifier harness on a local disk: eight loops of "tguard lock
// exec" on one index, then the same loops without tguard, which the
// verifier must catch. -short runs fewer cycles.
func TestLocalDisk(t *testing.T) {
	e := newLocalEnv(t)
	cycles := 50
	if testing.Short() {
		cycles = 10
	}
	n := envInt(localCyclesEnv, cycles)
	t.Run("racing", func(t *testing.T) {
		e.race(t, "local_racing", localLoops(e.local, "idx-local", 2*time.Second), n)
	})
	t.Run("control", func(t *testing.T) {
		e.control(t, "local_control", localLoops(e.local, "", 0), n)
	})
}
