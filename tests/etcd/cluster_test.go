package etcd_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/tguard/tguard/tests/prereq"
)

// etcdBin finds the server: Debian's etcd-server (3.4) puts it in
// /usr/bin. It is installed in seconds by make deps, where building the
// server from go.etcd.io/etcd/server/v3 at the client's version would add
// some forty modules to go.mod and minutes of compiling under -race to
// make test; the client (v3.6) speaks the same v3 API, and every test here
// passes against it. Without it the tests skip with one line, or fail
// under make test (tests/prereq).
func etcdBin(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("needs etcd servers: not under -short")
	}
	p, err := exec.LookPath("etcd")
	if err != nil {
		prereq.Missing(t, "needs an etcd server on PATH (package etcd-server): make deps")
	}
	return p
}

// member is one etcd server process on loopback ports.
type member struct {
	name             string
	client, peer     string // URLs
	dataDir, logPath string
	cmd              *exec.Cmd
	done             chan struct{}
}

// cluster is n members started together in a temporary folder.
type cluster struct {
	t       testing.TB
	members []*member
}

// freePort asks the kernel for a free loopback port.
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startCluster starts n members and waits until a client can write. The
// members are killed and their folders removed when t ends.
func startCluster(t testing.TB, n int) *cluster {
	t.Helper()
	bin := etcdBin(t)
	dir := t.TempDir()
	c := &cluster{t: t}
	var initial []string
	for i := 1; i <= n; i++ {
		m := &member{
			name:    fmt.Sprintf("m%d", i),
			client:  fmt.Sprintf("http://127.0.0.1:%d", freePort(t)),
			peer:    fmt.Sprintf("http://127.0.0.1:%d", freePort(t)),
			dataDir: filepath.Join(dir, fmt.Sprintf("m%d", i)),
			logPath: filepath.Join(dir, fmt.Sprintf("m%d.log", i)),
		}
		c.members = append(c.members, m)
		initial = append(initial, m.name+"="+m.peer)
	}
	token := fmt.Sprintf("tguard-%d-%d", os.Getpid(), time.Now().UnixNano())
	for _, m := range c.members {
		m.cmd = exec.Command(bin,
			"--name", m.name, "--data-dir", m.dataDir,
			"--listen-client-urls", m.client, "--advertise-client-urls", m.client,
			"--listen-peer-urls", m.peer, "--initial-advertise-peer-urls", m.peer,
			"--initial-cluster", strings.Join(initial, ","), "--initial-cluster-token", token,
			"--initial-cluster-state", "new",
			// Defaults, written out: one election is about the election
			// timeout, which the fault tests' bounds are made of.
			"--heartbeat-interval", "100", "--election-timeout", "1000",
			"--logger", "zap", "--log-level", "warn")
		f, err := os.Create(m.logPath)
		if err != nil {
			t.Fatal(err)
		}
		m.cmd.Stdout, m.cmd.Stderr = f, f
		m.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := m.cmd.Start(); err != nil {
			t.Fatalf("starting etcd %s: %v", m.name, err)
		}
		m.done = make(chan struct{})
		go func(m *member, f *os.File) { _ = m.cmd.Wait(); f.Close(); close(m.done) }(m, f)
		t.Cleanup(m.kill)
	}
	t.Cleanup(func() {
		if t.Failed() {
			for _, m := range c.members {
				b, _ := os.ReadFile(m.logPath)
				t.Logf("etcd %s log (last 2000 bytes):\n%s", m.name, tail(string(b), 2000))
			}
		}
	})
	begin := time.Now()
	cli := c.client(t)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err := cli.Put(ctx, "tguard-test/ready", "1")
		cancel()
		if err == nil {
			break
		}
		if time.Since(begin) > 30*time.Second {
			t.Fatalf("etcd cluster of %d not ready after 30s: %v", n, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("etcd cluster of %d up in %v: %s", n, time.Since(begin).Round(time.Millisecond), c.endpoints())
	return c
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// endpoints is the client URLs, comma separated (--etcd-endpoints).
func (c *cluster) endpoints() string {
	var eps []string
	for _, m := range c.members {
		eps = append(eps, m.client)
	}
	return strings.Join(eps, ",")
}

// client is a client of every member, closed when t ends.
func (c *cluster) client(t testing.TB) *clientv3.Client {
	t.Helper()
	cli, err := clientv3.New(clientv3.Config{Endpoints: strings.Split(c.endpoints(), ","),
		DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

// leader returns the member that leads now.
func (c *cluster) leader(t testing.TB) *member {
	t.Helper()
	cli := c.client(t)
	for _, m := range c.members {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		st, err := cli.Status(ctx, m.client)
		cancel()
		if err == nil && st.Leader == st.Header.MemberId {
			return m
		}
	}
	t.Fatal("no etcd member says it leads")
	return nil
}

// kill sends SIGKILL and waits for the process to end.
func (m *member) kill() {
	if m.cmd == nil || m.cmd.Process == nil {
		return
	}
	_ = m.cmd.Process.Kill()
	<-m.done
}
