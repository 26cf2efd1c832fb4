// Command contender is the command that tests/windows runs under
// "tguard lock exec", built for Linux and for Windows: in the helper role
// verifier.ContenderRole (tests/helperproc) it reports its grant to the
// proof harness's verifier (tests/verifier); with TGUARD_HEARTBEAT set it touches
// that file every 50 ms until killed, and starts a copy of itself that
// touches the file named by TGUARD_HEARTBEAT_CHILD, so a test can see
// whether the command and what it started are still running.
package main

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"time"

	"github.com/tguard/tguard/tests/helperproc"
	"github.com/tguard/tguard/tests/verifier"
)

func main() {
	helperproc.Main(helperproc.Roles{verifier.ContenderRole: verifier.Contend})
	beat := os.Getenv("TGUARD_HEARTBEAT")
	if beat == "" {
		fmt.Fprintln(os.Stderr, "contender: set the helper role or TGUARD_HEARTBEAT")
		os.Exit(2)
	}
	if child := os.Getenv("TGUARD_HEARTBEAT_CHILD"); child != "" {
		exe, err := os.Executable()
		if err != nil {
			fmt.Fprintln(os.Stderr, "contender:", err)
			os.Exit(1)
		}
		cmd := exec.Command(exe)
		cmd.Env = append(os.Environ(), "TGUARD_HEARTBEAT="+child, "TGUARD_HEARTBEAT_CHILD=")
		if err := cmd.Start(); err != nil {
			fmt.Fprintln(os.Stderr, "contender:", err)
			os.Exit(1)
		}
	}
	for i := 0; ; i++ {
		if err := os.WriteFile(beat, []byte(strconv.Itoa(i)), 0o666); err != nil {
			fmt.Fprintln(os.Stderr, "contender:", err)
			os.Exit(1)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
