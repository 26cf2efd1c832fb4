package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
)

// The lock's Go micro-benchmarks (lock/bench_test.go), in the raw
// "go test -bench" format that benchstat reads.
func (b *bench) jobMicro() (string, error) {
	args := []string{"test", "-run", "^$", "-bench", ".", "-count", strconv.Itoa(b.cfg.microCount)}
	if b.cfg.microTime != "" {
		args = append(args, "-benchtime", b.cfg.microTime)
	}
	args = append(args, "./lock/")
	cmd := exec.Command("go", args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go %v: %w\n%s", args, err, out.Bytes())
	}
	if b.cfg.microOut != "" {
		if err := os.WriteFile(b.cfg.microOut, out.Bytes(), 0o644); err != nil {
			return "", err
		}
	}
	b.microCmd = "go " + joinArgs(args)
	return out.String(), nil
}

func joinArgs(args []string) string {
	var s []byte
	for i, a := range args {
		if i > 0 {
			s = append(s, ' ')
		}
		if a == "^$" {
			a = "'^$'"
		}
		s = append(s, a...)
	}
	return string(s)
}
