//go:build linux

package windows

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tguard/tguard/tests/testbin"
)

var (
	wineExe  = os.Getenv("TGUARD_WINE_EXE")  // tguard.exe (make windows)
	linuxExe = os.Getenv("TGUARD_LINUX_EXE") // bin/tguard (make build)
	netDrive = os.Getenv("TGUARD_WINE_NETDRIVE")

	// The contender command (./contender), built for both sides.
	contenderWin, contenderLinux string
)

func TestMain(m *testing.M) {
	if wineExe == "" {
		fmt.Println("tests/windows: TGUARD_WINE_EXE is not set (make test-windows sets it): skipped")
		os.Exit(0)
	}
	tmp, err := os.MkdirTemp("", "tguard-wine-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	contenderWin, contenderLinux = filepath.Join(tmp, "contender.exe"), filepath.Join(tmp, "contender")
	for goos, out := range map[string]string{"windows": contenderWin, "linux": contenderLinux} {
		cmd := exec.Command(goTool(), "build", "-o", out, "./contender")
		cmd.Env = append(os.Environ(), "GOOS="+goos, "GOARCH=amd64", "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "building the contender for %s: %v\n%s", goos, err, b)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(tmp)
	os.Exit(code)
}

func goTool() string {
	if g := os.Getenv("GO"); g != "" {
		return g
	}
	return "go"
}

// winPath is the Windows name of a Linux path under Wine: drive Z: is /.
func winPath(p string) string { return "Z:" + strings.ReplaceAll(p, "/", `\`) }

// wineCmd is tguard.exe under Wine with args.
func wineCmd(ctx context.Context, env []string, args ...string) *testbin.Cmd {
	return testbin.Bin{Path: "wine", Args: []string{wineExe}}.CommandContext(ctx, args...).With(env...)
}

// linuxCmd is the Linux tguard with args.
func linuxCmd(ctx context.Context, env []string, args ...string) *testbin.Cmd {
	return testbin.Bin{Path: linuxExe}.CommandContext(ctx, args...).With(env...)
}

// run runs cmd and returns its stdout, stderr and exit code.
func run(t *testing.T, cmd *testbin.Cmd) (stdout, stderr string, code int) {
	t.Helper()
	r := cmd.Run(t)
	return r.Stdout, r.Stderr, r.Code
}

func withTimeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
