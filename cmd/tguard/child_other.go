//go:build !linux && !windows

package main

import (
	"os"
	"os/exec"
)

const stopsAtOnce = true // terminate kills

// childSys is empty: tguard is built for Linux and Windows only (the
// bridge links the Rust library for those). Elsewhere the command runs as
// a plain child: no process group, and nothing ends it if tguard dies.
type childSys struct{}

func newChild() *child { return &child{exited: make(chan error, 1)} }

func (c *child) abort() {}

func (c *child) start(cmd *exec.Cmd) error {
	if err := cmd.Start(); err != nil {
		return err
	}
	c.cmd = cmd
	go func() { c.exited <- cmd.Wait() }()
	return nil
}

func (c *child) signal(sig os.Signal) { _ = c.cmd.Process.Signal(sig) }
func (c *child) terminate()           { _ = c.cmd.Process.Kill() }
func (c *child) kill()                { _ = c.cmd.Process.Kill() }
