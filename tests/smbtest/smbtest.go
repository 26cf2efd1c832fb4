// Package smbtest starts a real SMB share on this machine and mounts it
// twice, through two independent SMB clients, so that tests can exercise
// file-system primitives the way two hosts sharing a folder would see them.
//
// The share is served by smbd (package samba) on 127.0.0.1:445 from a folder
// on local disk. Each client is its own smbnetfs (package smbnetfs, a FUSE
// file system, needing /dev/fuse and package fuse3 for fusermount) with its
// own HOME, config and SMB connections. Everything lives in a temporary
// folder; nothing global (/etc/samba, /var/lib/samba, ...) is touched.
//
// Port 445 is fixed (smbnetfs always connects to 445), so only one share can
// run on a machine at a time: Start takes a host-wide flock on
// /tmp/tguard-smb.lock and holds it until the test's cleanup has stopped
// everything, so test packages that run concurrently are serialised.
//
// The clients are mounted with -f -o auto_unmount (plus the cache options of
// Options.NoCache if asked); processes are started in their own process
// groups with a parent-death signal, so that a killed test process leaves
// neither processes nor mounts, and /tmp/tguard-smb.state lets the next
// Start remove whatever else is left.
//
// Install the packages with make deps. On a machine that cannot run a share
// (no packages, no /dev/fuse, not root) Start skips the test with one line
// saying what is missing, or fails it under make test (see tests/prereq).
// TGUARD_SMB_KEEP=1 keeps the temporary folder (logs) after the test.
package smbtest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tguard/tguard/tests/prereq"
)

// ShareName is the SMB share name served by smbd.
const ShareName = "tguard"

// KeepEnv, when set to 1, keeps the temporary folder (config, logs, served
// folder) after the test for inspection; processes and mounts are still
// stopped.
const KeepEnv = "TGUARD_SMB_KEEP"

// Packages lists the Debian packages the share needs.
var Packages = []string{"samba", "smbnetfs", "fuse3"}

const (
	hostLockPath  = "/tmp/tguard-smb.lock"
	hostStatePath = "/tmp/tguard-smb.state"
	smbAddr       = "127.0.0.1:445"
)

var (
	// LockWait is how long Start waits for another test package's share to
	// be stopped before failing.
	LockWait = 8 * time.Minute
	// SmbdWait bounds the wait for smbd to accept connections on port 445.
	SmbdWait = 15 * time.Second
	// MountWait bounds the wait for both client mounts to be usable and to
	// see each other's probe files.
	MountWait = 20 * time.Second
	// StopWait bounds each step of stopping (unmount, process exit).
	StopWait = 10 * time.Second
)

// Options tunes the client mounts.
type Options struct {
	// NoCache mounts both clients with the FUSE kernel caches off
	// (entry_timeout=0, attr_timeout=0, negative_timeout=0, direct_io).
	// The default (false) is what a user gets by running smbnetfs with no
	// options: names and attributes cached by the kernel for 1 s, negative
	// lookups not cached, directory listings and file pages not cached
	// across opens.
	NoCache bool
	// ExtraMountOptions are appended to the -o list of both smbnetfs mounts.
	ExtraMountOptions []string
}

// Share is a running SMB share with two client mounts.
type Share struct {
	// Root is the served folder on local disk.
	Root string
	// MountA and MountB are the same share folder seen through client A and
	// client B (MOUNT/127.0.0.1/tguard).
	MountA, MountB string

	// Dir is the temporary folder holding configs, logs, homes, mount points
	// and Root.
	Dir string
	// Options the share was started with.
	Options Options

	t        testing.TB
	smbd     *proc
	clients  []*client
	stopped  bool
	dumped   bool // logs already printed
	restarts int  // times RestartServer started smbd again
	mu       sync.Mutex
}

type client struct {
	name       string // "A" or "B"
	home       string
	mountPoint string // FUSE mount point
	share      string // mountPoint/127.0.0.1/ShareName
	log        string
	proc       *proc
}

type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	err  error // valid after done is closed
}

// Available reports whether this machine can run a share: nil if the tools,
// /dev/fuse and root are there, otherwise an error whose one-line message
// names what is missing and the package that provides it.
func Available() error {
	var missing []string
	if _, err := lookSbin("smbd"); err != nil {
		missing = append(missing, "smbd (package samba)")
	}
	if _, err := exec.LookPath("smbnetfs"); err != nil {
		missing = append(missing, "smbnetfs (package smbnetfs)")
	}
	if _, err := fusermount(); err != nil {
		missing = append(missing, "fusermount3/fusermount (package fuse3)")
	}
	if _, err := exec.LookPath("unshare"); err != nil {
		missing = append(missing, "unshare (package util-linux)")
	}
	if _, err := lookSbin("hostname"); err != nil {
		missing = append(missing, "hostname (package hostname)")
	}
	if _, err := lookSbin("mount"); err != nil {
		missing = append(missing, "mount (package mount)")
	}
	if len(missing) > 0 {
		return fmt.Errorf("needs a Samba share: missing %s: make deps (apt-get install -y %s)",
			strings.Join(missing, ", "), strings.Join(Packages, " "))
	}
	if fi, err := os.Stat("/dev/fuse"); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return errors.New("needs a Samba share: /dev/fuse is not available (kernel FUSE support, package fuse3)")
	}
	if os.Geteuid() != 0 {
		return errors.New("needs root to serve and mount a Samba share (smbd on port 445, FUSE mounts, UTS and mount namespaces): run make test as root")
	}
	return nil
}

// Need skips t with Available's one-line reason on a machine that cannot run
// a share, or fails it under make test (prereq.RequireAllEnv). -short skips
// it too: a share takes seconds to start and one runs at a time.
func Need(t testing.TB) {
	t.Helper()
	// testing.Short panics outside a test binary (go run ./tests/share/probe).
	if testing.Testing() && testing.Short() {
		t.Skip("needs a Samba share: not under -short")
	}
	if err := Available(); err != nil {
		prereq.Missing(t, "%v", err)
	}
}

// lookSbin finds a program in PATH or in the sbin folders, which a non-login
// PATH may lack.
func lookSbin(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, dir := range []string{"/usr/sbin", "/sbin", "/usr/bin", "/bin"} {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found", name)
}

func fusermount() (string, error) {
	if p, err := exec.LookPath("fusermount3"); err == nil {
		return p, nil
	}
	return exec.LookPath("fusermount")
}

// Start starts smbd and two smbnetfs client mounts with default options and
// waits until each mount sees a probe file written through the other. It
// registers t.Cleanup to unmount, stop the processes and remove the temporary
// folder. On a machine that cannot run a share it ends the test as Need does.
func Start(t testing.TB) *Share {
	t.Helper()
	return StartWith(t, Options{})
}

// StartWith is Start with options.
func StartWith(t testing.TB, opts Options) *Share {
	t.Helper()
	Need(t)

	release, err := lockHost(t)
	if err != nil {
		t.Fatalf("smbtest: %v", err)
	}
	s := &Share{t: t, Options: opts}
	// Registered before anything is started: it runs even if Start fails
	// half-way, and it releases the host lock last.
	t.Cleanup(func() {
		s.stop()
		release()
	})

	cleanLeftovers(t)
	if err := s.start(); err != nil {
		s.dumpLogs()
		t.Fatalf("smbtest: %v", err)
	}
	return s
}

// in-process serialisation: flock locks belong to open files, so two
// Start calls in one process would not exclude each other through flock alone.
var processLock = make(chan struct{}, 1)

func lockHost(t testing.TB) (release func(), err error) {
	deadline := time.Now().Add(LockWait)
	logged := false
	select {
	case processLock <- struct{}{}:
	default:
		t.Logf("smbtest: waiting for another share in this process to be stopped")
		select {
		case processLock <- struct{}{}:
		case <-time.After(LockWait):
			return nil, fmt.Errorf("another share in this process still running after %v", LockWait)
		}
	}
	f, err := os.OpenFile(hostLockPath, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		<-processLock
		return nil, fmt.Errorf("open host lock %s: %w", hostLockPath, err)
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			<-processLock
			return nil, fmt.Errorf("flock %s: %w", hostLockPath, err)
		}
		if time.Now().After(deadline) {
			f.Close()
			<-processLock
			return nil, fmt.Errorf("host lock %s still held by another test process after %v", hostLockPath, LockWait)
		}
		if !logged {
			t.Logf("smbtest: waiting for host lock %s (another test package runs a share)", hostLockPath)
			logged = true
		}
		time.Sleep(100 * time.Millisecond)
	}
	_ = f.Truncate(0)
	_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
		<-processLock
	}, nil
}

// hostState records what a running share started, so that a later Start can
// clean up after a test process that was killed before its cleanup ran.
type hostState struct {
	Owner  int      `json:"owner"`
	Dir    string   `json:"dir"`
	Pgids  []int    `json:"pgids"`
	Mounts []string `json:"mounts"`
}

func (s *Share) saveState() {
	st := hostState{Owner: os.Getpid(), Dir: s.Dir}
	if s.smbd != nil && s.smbd.cmd.Process != nil {
		st.Pgids = append(st.Pgids, s.smbd.cmd.Process.Pid)
	}
	for _, c := range s.clients {
		st.Mounts = append(st.Mounts, c.mountPoint)
		if c.proc != nil && c.proc.cmd.Process != nil {
			st.Pgids = append(st.Pgids, c.proc.cmd.Process.Pid)
		}
	}
	b, _ := json.Marshal(st)
	_ = os.WriteFile(hostStatePath, b, 0o644)
}

// cleanLeftovers stops what an earlier, killed test process left behind.
// Called with the host lock held, so that process is gone. Only processes
// recorded in the state file, whose command line still names the recorded
// temporary folder, are killed.
func cleanLeftovers(t testing.TB) {
	b, err := os.ReadFile(hostStatePath)
	if err != nil {
		return
	}
	var st hostState
	if json.Unmarshal(b, &st) != nil || st.Dir == "" || !strings.HasPrefix(st.Dir, os.TempDir()) {
		_ = os.Remove(hostStatePath)
		return
	}
	t.Logf("smbtest: cleaning up after an earlier test process (pid %d) that did not stop its share in %s", st.Owner, st.Dir)
	for _, m := range st.Mounts {
		if isMounted(m) {
			unmount(m, true)
		}
	}
	for _, pid := range leftoverPids(st) {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	still := false
	for _, m := range st.Mounts {
		still = still || isMounted(m)
	}
	if !still {
		_ = os.RemoveAll(st.Dir)
	}
	_ = os.Remove(hostStatePath)
}

// leftoverPids lists the processes in the recorded process groups whose
// command line names the recorded temporary folder.
func leftoverPids(st hostState) []int {
	groups := map[int]bool{}
	for _, g := range st.Pgids {
		groups[g] = true
	}
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		pgid, err := syscall.Getpgid(pid)
		if err != nil || !groups[pgid] {
			continue
		}
		cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err == nil && bytes.Contains(cmdline, []byte(st.Dir)) {
			pids = append(pids, pid)
		}
	}
	return pids
}

func (s *Share) start() error {
	if conn, err := net.DialTimeout("tcp", smbAddr, 500*time.Millisecond); err == nil {
		conn.Close()
		return fmt.Errorf("port 445 on 127.0.0.1 is already in use by another process (a system smbd? try: ss -ltnp 'sport = :445'); the test share needs it")
	}
	dir, err := os.MkdirTemp("", "tguard-smb-")
	if err != nil {
		return err
	}
	s.Dir = dir
	s.Root = filepath.Join(dir, "share")
	s.saveState()
	for _, d := range []string{"share", "lock", "state", "cache", "pid", "private", "ncalrpc", "log"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	conf := filepath.Join(dir, "smb.conf")
	if err := os.WriteFile(conf, []byte(smbConf(dir, s.Root)), 0o644); err != nil {
		return err
	}

	if err := s.startServer("smbd.out"); err != nil {
		return err
	}

	// two clients
	for _, name := range []string{"A", "B"} {
		c, err := s.startClient(name)
		if c != nil {
			s.clients = append(s.clients, c)
			s.saveState()
		}
		if err != nil {
			return err
		}
	}
	s.MountA = s.clients[0].share
	s.MountB = s.clients[1].share

	// Each mount must see a probe written through the other.
	deadline := time.Now().Add(MountWait)
	for i, c := range s.clients {
		other := s.clients[1-i]
		probe := fmt.Sprintf(".smbtest-probe-%s", c.name)
		content := []byte("written through client " + c.name + "\n")
		if err := waitUntil(deadline, []*proc{s.smbd, c.proc}, func() (bool, error) {
			return os.WriteFile(filepath.Join(c.share, probe), content, 0o644) == nil, nil
		}); err != nil {
			return fmt.Errorf("client %s: cannot write a probe file into %s: %w", c.name, c.share, err)
		}
		if err := waitUntil(deadline, []*proc{s.smbd, other.proc}, func() (bool, error) {
			got, err := os.ReadFile(filepath.Join(other.share, probe))
			return err == nil && bytes.Equal(got, content), nil
		}); err != nil {
			return fmt.Errorf("client %s does not see the probe written through client %s: %w", other.name, c.name, err)
		}
	}
	for _, c := range s.clients {
		_ = os.Remove(filepath.Join(s.Root, ".smbtest-probe-"+c.name))
	}
	return nil
}

// startServer starts smbd on the share's config, with its output in
// log/<logName>, and waits until it accepts connections.
func (s *Share) startServer(logName string) error {
	smbdBin, _ := lookSbin("smbd")
	cmd := exec.Command(smbdBin, "--foreground", "--no-process-group", "--debug-stdout", "-s", filepath.Join(s.Dir, "smb.conf"))
	p, err := startProc("smbd", cmd, filepath.Join(s.Dir, "log", logName))
	if err != nil {
		return err
	}
	s.smbd = p
	s.saveState()
	if err := waitFor(SmbdWait, s.smbd, func() (bool, error) {
		conn, err := net.DialTimeout("tcp", smbAddr, 200*time.Millisecond)
		if err != nil {
			return false, nil
		}
		conn.Close()
		return true, nil
	}); err != nil {
		return fmt.Errorf("smbd did not listen on %s: %w", smbAddr, err)
	}
	return nil
}

// KillServer kills smbd and every child it forked (one per client
// connection) with SIGKILL, as a crash of the file server would, and waits
// until they are gone. The mounts stay; what they answer meanwhile is what
// a test of share faults observes.
func (s *Share) KillServer() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.smbd
	if p == nil || p.cmd.Process == nil {
		return errors.New("smbtest: smbd is not running")
	}
	pgid := p.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	select {
	case <-p.done:
	case <-time.After(StopWait):
		return fmt.Errorf("smbtest: smbd (pid %d) did not exit after SIGKILL", pgid)
	}
	return stopProc(p, 0)
}

// RestartServer starts smbd again after KillServer, on the same config and
// served folder, and waits until it accepts connections. The smbnetfs
// clients reconnect on their next request.
func (s *Share) RestartServer() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.smbd != nil && !s.smbd.exited() {
		return errors.New("smbtest: smbd is still running")
	}
	s.restarts++
	return s.startServer(fmt.Sprintf("smbd.out.%d", s.restarts))
}

func smbConf(dir, root string) string {
	p := func(d string) string { return filepath.Join(dir, d) }
	return fmt.Sprintf(`# written by tguard tests/smbtest; everything under %[1]s
[global]
	server role = standalone server
	workgroup = WORKGROUP
	map to guest = Bad User
	bind interfaces only = yes
	interfaces = lo
	smb ports = 445
	disable netbios = yes
	load printers = no
	printing = bsd
	printcap name = /dev/null
	disable spoolss = yes
	lock directory = %[2]s
	state directory = %[3]s
	cache directory = %[4]s
	pid directory = %[5]s
	private dir = %[6]s
	ncalrpc dir = %[7]s
	log file = %[8]s
	max log size = 0
	log level = 1
	idmap config * : backend = tdb
	idmap config * : range = 100000-199999

[%[9]s]
	path = %[10]s
	guest ok = yes
	guest only = yes
	read only = no
	force user = root
	force group = root
`, dir, p("lock"), p("state"), p("cache"), p("pid"), p("private"), p("ncalrpc"),
		filepath.Join(dir, "log", "smbd.log"), ShareName, root)
}

func (s *Share) startClient(name string) (*client, error) {
	c := &client{
		name:       name,
		home:       filepath.Join(s.Dir, "home"+name),
		mountPoint: filepath.Join(s.Dir, "mnt"+name),
		log:        filepath.Join(s.Dir, "log", "smbnetfs"+name+".log"),
	}
	c.share = filepath.Join(c.mountPoint, "127.0.0.1", ShareName)
	if err := os.MkdirAll(filepath.Join(c.home, ".smb"), 0o700); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(c.mountPoint, 0o755); err != nil {
		return nil, err
	}
	conf := "host 127.0.0.1 visible=true\nauth \"guest\" \"\"\n"
	if err := os.WriteFile(filepath.Join(c.home, ".smb", "smbnetfs.conf"), []byte(conf), 0o600); err != nil {
		return nil, err
	}
	// libsmbclient reads $HOME/.smb/smb.conf instead of /etc/samba/smb.conf
	// when it exists: keep the client's caches (gencache.tdb, ...) in the
	// temporary folder too.
	state := filepath.Join(c.home, ".smb", "state")
	if err := os.MkdirAll(state, 0o700); err != nil {
		return nil, err
	}
	clientConf := fmt.Sprintf("[global]\n\tworkgroup = WORKGROUP\n\tlock directory = %[1]s\n\tstate directory = %[1]s\n\tcache directory = %[1]s\n\tprivate dir = %[1]s\n\tncalrpc dir = %[1]s\n", state)
	if err := os.WriteFile(filepath.Join(c.home, ".smb", "smb.conf"), []byte(clientConf), 0o600); err != nil {
		return nil, err
	}
	mountOpts := []string{"auto_unmount", "fsname=smbnetfs-tguard-" + name, "log_file=" + c.log}
	if s.Options.NoCache {
		mountOpts = append(mountOpts, "entry_timeout=0", "attr_timeout=0", "negative_timeout=0", "direct_io")
	}
	mountOpts = append(mountOpts, s.Options.ExtraMountOptions...)
	// -f: stay in the foreground so the process is ours to stop.
	cmd := exec.Command("smbnetfs", c.mountPoint, "-f", "-o", strings.Join(mountOpts, ","))
	cmd.Env = append(withoutEnv(os.Environ(), "HOME"), "HOME="+c.home)
	cmd.Dir = c.home
	p, err := startProc("smbnetfs "+name, cmd, filepath.Join(s.Dir, "log", "smbnetfs"+name+".out"))
	if err != nil {
		return nil, err
	}
	c.proc = p
	if err := waitFor(MountWait, p, func() (bool, error) { return isMounted(c.mountPoint), nil }); err != nil {
		return c, fmt.Errorf("smbnetfs %s did not mount %s: %w", name, c.mountPoint, err)
	}
	if err := waitFor(MountWait, p, func() (bool, error) {
		fi, err := os.Stat(c.share)
		return err == nil && fi.IsDir(), nil
	}); err != nil {
		return c, fmt.Errorf("client %s: share folder %s did not appear: %w", name, c.share, err)
	}
	return c, nil
}

func withoutEnv(env []string, key string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, key+"=") {
			out = append(out, kv)
		}
	}
	return out
}

// startProc starts cmd in its own process group, with output to logPath, and
// killed by the kernel if the test process dies.
func startProc(name string, cmd *exec.Cmd, logPath string) (*proc, error) {
	out, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd.Stdout = out
	cmd.Stderr = out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		out.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		out.Close()
		close(p.done)
	}()
	return p, nil
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// waitFor polls cond until it is true, the process exits or timeout passes.
func waitFor(timeout time.Duration, p *proc, cond func() (bool, error)) error {
	return waitUntil(time.Now().Add(timeout), []*proc{p}, cond)
}

func waitUntil(deadline time.Time, procs []*proc, cond func() (bool, error)) error {
	delay := 10 * time.Millisecond
	for {
		ok, err := cond()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		for _, p := range procs {
			if p != nil && p.exited() {
				status := "exit status 0"
				if p.err != nil {
					status = p.err.Error()
				}
				return fmt.Errorf("%s exited early (%s); its log is printed above or below", p.name, status)
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out")
		}
		time.Sleep(delay)
		if delay < 200*time.Millisecond {
			delay *= 2
		}
	}
}

// isMounted reports whether path is a mount point, from /proc/self/mountinfo.
func isMounted(path string) bool {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 4 && unescapeMount(fields[4]) == path {
			return true
		}
	}
	return false
}

func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// unmount runs fusermount -u, then lazily (-z) if the mount is busy.
func unmount(mountPoint string, lazy bool) error {
	fm, err := fusermount()
	if err != nil {
		return err
	}
	args := []string{"-u", mountPoint}
	if lazy {
		args = []string{"-u", "-z", mountPoint}
	}
	out, err := exec.Command(fm, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %v: %s", fm, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// stopProc sends SIGTERM to the process group, SIGKILL after grace, and
// waits until every process of the group is gone.
func stopProc(p *proc, grace time.Duration) error {
	if p == nil || p.cmd.Process == nil {
		return nil
	}
	pgid := p.cmd.Process.Pid
	if !p.exited() {
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(grace):
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			select {
			case <-p.done:
			case <-time.After(StopWait):
				return fmt.Errorf("%s (pid %d) did not exit after SIGKILL", p.name, pgid)
			}
		}
	}
	// Children of the group that outlived the leader; then wait until the
	// group is gone (orphans are reaped by init), so that nothing is left
	// when the test ends.
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	deadline := time.Now().Add(StopWait)
	for syscall.Kill(-pgid, 0) == nil {
		if time.Now().After(deadline) {
			return fmt.Errorf("processes of %s (process group %d) still there after SIGKILL", p.name, pgid)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return nil
}

// Stop unmounts both clients, stops smbd and removes the temporary folder.
// It is registered as a cleanup by Start; calling it earlier is allowed.
func (s *Share) Stop() {
	s.stop()
}

func (s *Share) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return
	}
	s.stopped = true
	t := s.t
	var problems []string
	if t.Failed() {
		s.dumpLogs()
	}
	// Unmount both clients first (nothing is in flight afterwards), then
	// stop all processes at once: a graceful smbd or smbnetfs exit takes
	// about 2 s each and buys nothing here.
	for _, c := range s.clients {
		if isMounted(c.mountPoint) {
			if err := unmount(c.mountPoint, false); err != nil {
				t.Logf("smbtest: %v; unmounting lazily", err)
				if err := unmount(c.mountPoint, true); err != nil {
					problems = append(problems, err.Error())
				}
			}
		}
	}
	procs := []*proc{s.smbd}
	for _, c := range s.clients {
		procs = append(procs, c.proc)
	}
	errs := make([]error, len(procs))
	var wg sync.WaitGroup
	for i, p := range procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = stopProc(p, 500*time.Millisecond)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			problems = append(problems, err.Error())
		}
	}
	stillMounted := false
	for _, c := range s.clients {
		if isMounted(c.mountPoint) {
			stillMounted = true
			problems = append(problems, "still mounted: "+c.mountPoint)
		}
	}
	if s.Dir != "" && !stillMounted {
		if os.Getenv(KeepEnv) == "1" {
			t.Logf("smbtest: kept %s (%s=1)", s.Dir, KeepEnv)
		} else if err := os.RemoveAll(s.Dir); err != nil {
			problems = append(problems, err.Error())
		}
	}
	if len(problems) == 0 {
		_ = os.Remove(hostStatePath)
	}
	if len(problems) > 0 {
		t.Errorf("smbtest: stopping the share: %s", strings.Join(problems, "; "))
	}
}

// Logs returns the paths of the log files (smbd log and stdout, smbnetfs
// logs and stdout).
func (s *Share) Logs() []string {
	if s.Dir == "" {
		return nil
	}
	m, _ := filepath.Glob(filepath.Join(s.Dir, "log", "*"))
	return m
}

func (s *Share) dumpLogs() {
	if s.dumped {
		return
	}
	s.dumped = true
	for _, path := range s.Logs() {
		b, err := os.ReadFile(path)
		if err != nil || len(bytes.TrimSpace(b)) == 0 {
			continue
		}
		const max = 8000
		if len(b) > max {
			b = append([]byte("...\n"), b[len(b)-max:]...)
		}
		s.t.Logf("smbtest: ==== %s ====\n%s", path, b)
	}
}
