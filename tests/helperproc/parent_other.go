//go:build !linux

package helperproc

import "os/exec"

// setParentDeath: only Linux has a parent-death signal; elsewhere the test's
// cleanup kills the child.
func setParentDeath(*exec.Cmd) {}
