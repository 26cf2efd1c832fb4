package helperproc

import (
	"os/exec"
	"syscall"
)

// setParentDeath kills the child when the parent dies: a test binary killed
// by go test's timeout must not leave helpers holding leases.
func setParentDeath(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
}
