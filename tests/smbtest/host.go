package smbtest

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// A simulated host is what OtherHost runs a command in. The two "hosts" of
// the share tests are processes on one kernel, so everything that tells a
// host apart must be given to each on purpose; otherwise they share the
// boot id, the machine id and the per-boot memory file systems (/dev/shm,
// /run), and a protocol that wrongly trusted those would pass here and fail
// between two real machines. Each hostname gets, once per test process:
//
//   - a boot id (a random UUID), bind-mounted over
//     /proc/sys/kernel/random/boot_id;
//   - a machine id (32 random hex digits), bind-mounted over
//     /etc/machine-id (when the machine has one to mount over);
//   - a per-boot memory folder on a tmpfs, bind-mounted over /dev/shm, with
//     TGUARD_HOST_NONCE_DIR=/dev/shm: the host nonce of lock/ is kept there,
//     so two processes of one simulated host share it and processes of two
//     never do. The variable is set because /run/tguard, tried first, may be
//     a tmpfs shared by every simulated host (it is on most real hosts).
//
// The hosts' folders are made under /dev/shm (a tmpfs; a tmpfs of our own
// is mounted where /dev/shm is not one), named after the test process, and
// removed by a later test process once that process is gone.

// HostNonceDir is the folder a simulated host keeps its host nonce in, as
// its processes see it.
const HostNonceDir = "/dev/shm"

const (
	hostNonceEnv  = "TGUARD_HOST_NONCE_DIR"
	bootIDPath    = "/proc/sys/kernel/random/boot_id"
	machineIDPath = "/etc/machine-id"
	hostsPrefix   = "tguard-smbtest-hosts-"
)

type simHost struct {
	dir string // holds boot_id, machine-id and shm/
}

var hosts struct {
	sync.Mutex
	root   string // this test process's folder, made on first use
	byName map[string]*simHost
}

// OtherHost rewrites cmd so that it runs as if on another host named
// hostname: in a new UTS namespace (its hostname) and a new mount namespace
// (propagation private) in which the host's boot id, machine id and
// per-boot memory folder are mounted (see above):
//
//	unshare --uts --mount --propagation private sh -c '
//	    hostname "$0" && mount --bind BOOT_ID /proc/sys/kernel/random/boot_id &&
//	    mount --bind MACHINE_ID /etc/machine-id && mount --bind SHM /dev/shm &&
//	    TGUARD_HOST_NONCE_DIR=/dev/shm exec PROGRAM ARGS...' HOSTNAME
//
// Every process started with one hostname, in one test process, is on the
// same simulated host; the share's FUSE mounts are visible in the new mount
// namespace (it starts as a copy of ours). The process keeps its pid
// (unshare and sh exec), so cmd.Process reaches the real program. Call it
// before cmd.Start; if the host cannot be made, cmd.Start returns why.
func OtherHost(hostname string, cmd *exec.Cmd) {
	h, err := simulatedHost(hostname)
	if err != nil {
		cmd.Err = fmt.Errorf("smbtest: simulated host %q: %w", hostname, err)
		return
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		unshare = "/usr/bin/unshare"
	}
	hostnameBin, err := lookSbin("hostname")
	if err != nil {
		hostnameBin = "hostname"
	}
	mountBin, err := lookSbin("mount")
	if err != nil {
		mountBin = "mount"
	}
	bind := func(src, dst string) string {
		return shellQuote(mountBin) + " --bind " + shellQuote(src) + " " + shellQuote(dst) + " && "
	}
	script := shellQuote(hostnameBin) + ` "$0" && ` +
		bind(filepath.Join(h.dir, "boot_id"), bootIDPath)
	if _, err := os.Stat(machineIDPath); err == nil {
		script += bind(filepath.Join(h.dir, "machine-id"), machineIDPath)
	}
	script += bind(filepath.Join(h.dir, "shm"), HostNonceDir) +
		hostNonceEnv + "=" + HostNonceDir + ` && export ` + hostNonceEnv + ` && exec "$@"`

	prog := cmd.Path
	var rest []string
	if len(cmd.Args) > 1 {
		rest = cmd.Args[1:]
	}
	args := []string{"unshare", "--uts", "--mount", "--propagation", "private", "sh", "-c", script, hostname, prog}
	cmd.Path = unshare
	cmd.Args = append(args, rest...)
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// simulatedHost returns the host named hostname, making it the first time.
func simulatedHost(hostname string) (*simHost, error) {
	hosts.Lock()
	defer hosts.Unlock()
	if h := hosts.byName[hostname]; h != nil {
		return h, nil
	}
	if hosts.root == "" {
		root, err := makeHostsRoot()
		if err != nil {
			return nil, err
		}
		hosts.root = root
		hosts.byName = map[string]*simHost{}
	}
	// Numbered, not named after the hostname: any string may be one.
	h := &simHost{dir: filepath.Join(hosts.root, strconv.Itoa(len(hosts.byName)))}
	boot := randomHex(16)
	// The kernel's format: a version 4 UUID, lower case.
	boot = boot[:8] + "-" + boot[8:12] + "-4" + boot[13:16] + "-a" + boot[17:20] + "-" + boot[20:]
	if err := os.MkdirAll(filepath.Join(h.dir, "shm"), 0o755); err != nil {
		return nil, err
	}
	// As /dev/shm: any account may make its files there.
	if err := os.Chmod(filepath.Join(h.dir, "shm"), 0o1777); err != nil {
		return nil, err
	}
	for name, content := range map[string]string{"boot_id": boot, "machine-id": randomHex(16), "hostname": hostname} {
		if err := os.WriteFile(filepath.Join(h.dir, name), []byte(content+"\n"), 0o444); err != nil {
			return nil, err
		}
	}
	hosts.byName[hostname] = h
	return h, nil
}

// makeHostsRoot makes this test process's folder for its simulated hosts on
// a tmpfs, after removing those of test processes that are gone.
func makeHostsRoot() (string, error) {
	removeGoneHosts()
	prefix := hostsPrefix + strconv.Itoa(os.Getpid()) + "-"
	if inMemory("/dev/shm") {
		return os.MkdirTemp("/dev/shm", prefix)
	}
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		return "", err
	}
	if err := syscall.Mount("tguard-smbtest", dir, "tmpfs", 0, "size=16m,mode=0755"); err != nil {
		_ = os.Remove(dir)
		return "", fmt.Errorf("mount a tmpfs on %s (no tmpfs at /dev/shm): %w", dir, err)
	}
	return dir, nil
}

// removeGoneHosts removes the hosts' folders of test processes that no
// longer run (a reused pid keeps its folder a while longer: harmless).
func removeGoneHosts() {
	for _, parent := range []string{"/dev/shm", os.TempDir()} {
		entries, _ := os.ReadDir(parent)
		for _, e := range entries {
			rest, ok := strings.CutPrefix(e.Name(), hostsPrefix)
			if !ok || !e.IsDir() {
				continue
			}
			pidStr, _, _ := strings.Cut(rest, "-")
			pid, err := strconv.Atoi(pidStr)
			if err != nil || pid == os.Getpid() || !errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) {
				continue
			}
			dir := filepath.Join(parent, e.Name())
			if isMounted(dir) {
				_ = syscall.Unmount(dir, syscall.MNT_DETACH)
			}
			_ = os.RemoveAll(dir)
		}
	}
}

// inMemory reports whether dir is on a tmpfs, as lock/ requires of a host
// nonce folder.
func inMemory(dir string) bool {
	var st syscall.Statfs_t
	const tmpfsMagic = 0x01021994
	return syscall.Statfs(dir, &st) == nil && st.Type == tmpfsMagic
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
