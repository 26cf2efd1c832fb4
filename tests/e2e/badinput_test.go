package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tguard/tguard/tests/testbin"
)

// Bad input: corrupt lease records and bad environments,
// each against the built binary. Every row gives a clear one-line error or a
// safe takeover, never a panic trace and never two holders, and logs one
// line for the report:
//
//	FIGURE badinput case=<name> outcome=<outcome> exit=<code> took=<ms>ms

const (
	outClearError = "clear-error"
	outHeldExpiry = "held-until-expiry"
	outTakenOnce  = "taken-at-once"
	outNotTaken   = "not-taken"
)

func figure(t *testing.T, name, outcome string, code int, took time.Duration) {
	t.Helper()
	t.Logf("FIGURE badinput case=%s outcome=%s exit=%d took=%dms", name, outcome, code, took.Milliseconds())
}

// tguardAs runs the binary as the user in cred (nil: as this process), and
// says how long it took.
func tguardAs(t *testing.T, cred *syscall.Credential, args ...string) (testbin.Result, time.Duration) {
	t.Helper()
	cmd := tguardBin.Command(args...)
	cmd.Timeout = time.Minute
	if cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		cmd.With("HOME=/nonexistent", "XDG_STATE_HOME=/nonexistent")
	}
	r := cmd.Run(t)
	noPanic(t, r)
	return r, r.Took
}

func noPanic(t *testing.T, r testbin.Result) {
	t.Helper()
	for _, s := range []string{"goroutine ", "panic:", "internal error"} {
		assert.NotContains(t, r.Stderr, s, "no panic")
	}
}

// oneLineError checks that a failed run said why in one line of stderr
// that contains each of want.
func oneLineError(t *testing.T, r testbin.Result, want ...string) {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(r.Stderr), "\n")
	assert.Len(t, lines, 1, "one line: %q", r.Stderr)
	assert.True(t, strings.HasPrefix(r.Stderr, "tguard: "), "%q", r.Stderr)
	for _, w := range want {
		assert.Contains(t, r.Stderr, w)
	}
}

// statusAs runs "lock status --json" (and the text form, which must be one
// line) as cred and decodes the JSON.
func statusAs(t *testing.T, cred *syscall.Credential, ix string) lockStatus {
	t.Helper()
	r, _ := tguardAs(t, cred, "lock", "status", "--index", ix)
	require.Equal(t, 0, r.Code, r.Stderr)
	assert.Empty(t, r.Stderr)
	assert.Len(t, strings.Split(strings.TrimSpace(r.Stdout), "\n"), 1, "one line: %q", r.Stdout)
	r, _ = tguardAs(t, cred, "lock", "status", "--index", ix, "--json")
	require.Equal(t, 0, r.Code, r.Stderr)
	assert.Empty(t, r.Stderr)
	var s lockStatus
	require.NoError(t, json.Unmarshal([]byte(r.Stdout), &s), r.Stdout)
	require.NotNil(t, s.ExpiresInMS, "expires_in_ms is part of the contract")
	return s
}

// plantHeld lays out a lease as the lock writes it: a real "lock exec"
// is granted generation 1 and releases it (slot 1 with the marker
// "released"); removing that slot leaves generation 1 as it looks right
// after its grant, held. It returns the path of owner.json and the real
// record, decoded, for the cases to corrupt.
func plantHeld(t *testing.T, ix string) (string, map[string]any) {
	t.Helper()
	r, _ := tguardAs(t, nil, "lock", "exec", "--index", ix, "--lease", "1s", "--", "true")
	require.Equal(t, 0, r.Code, r.Stderr)
	gen := filepath.Join(ix, ".tguard-lease", "1")
	slot := filepath.Join(gen, "1")
	require.FileExists(t, filepath.Join(slot, "released"), "the layout of docs/PROTOCOL.md")
	require.NoError(t, os.RemoveAll(slot))
	recPath := filepath.Join(gen, "owner.json")
	b, err := os.ReadFile(recPath)
	require.NoError(t, err)
	var rec map[string]any
	require.NoError(t, json.Unmarshal(b, &rec))
	require.EqualValues(t, 1, rec["token"])
	s := statusAs(t, nil, ix)
	require.True(t, s.Held, "planted generation 1 must read as held")
	return recPath, rec
}

func encodeRec(t *testing.T, rec map[string]any, change map[string]any) []byte {
	t.Helper()
	m := map[string]any{}
	for k, v := range rec {
		m[k] = v
	}
	for k, v := range change {
		m[k] = v
	}
	b, err := json.Marshal(m)
	require.NoError(t, err)
	return append(b, '\n')
}

// deadPID is the PID of a process that ran and was reaped.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	require.NoError(t, cmd.Run())
	return cmd.Process.Pid
}

// procStart is field 22 of /proc/PID/stat, as the lock records it.
func procStart(t *testing.T, pid int) uint64 {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	require.NoError(t, err)
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	n, err := strconv.ParseUint(f[19], 10, 64)
	require.NoError(t, err)
	return n
}

// takeOver runs a contender with a short lease as cred. Its command prints
// the fencing token, then "lock status --json" from inside the lease, so
// the status names whoever holds the lease while the taker holds it.
func takeOver(t *testing.T, cred *syscall.Credential, ix, owner, wait string) (testbin.Result, time.Duration) {
	t.Helper()
	return tguardAs(t, cred, "lock", "exec", "--index", ix, "--owner", owner, "--lease", "500ms", "--wait", wait, "--",
		"sh", "-c", `echo "$TGUARD_FENCING_TOKEN"; exec "$0" lock status --index "$1" --json`, tguardBin.Path, ix)
}

// onlyTaker checks a takeover of planted generation 1: the taker's token is
// above it, the status seen inside the lease names the taker, and
// generation 1 ended by the protocol's own marker.
func onlyTaker(t *testing.T, r testbin.Result, ix, owner string) {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(r.Stdout), "\n")
	require.Len(t, lines, 2, r.Stdout)
	token, err := strconv.ParseUint(lines[0], 10, 64)
	require.NoError(t, err)
	assert.Equal(t, uint64(2), token, "a token above the planted generation")
	var s lockStatus
	require.NoError(t, json.Unmarshal([]byte(lines[1]), &s), lines[1])
	assert.True(t, s.Held)
	assert.Equal(t, owner, s.Owner, "the status names the taker")
	assert.Equal(t, token, s.Token)
	assert.FileExists(t, filepath.Join(ix, ".tguard-lease", "1", "1", "expired"),
		"the planted generation was ended by a takeover, not overwritten")
}

// A contender's own lease is 500ms; a waiter may end an unreadable record
// after lease + lease/10 of seeing it unchanged.
const takeoverAfter = 550 * time.Millisecond

func TestBadInputLeaseRecords(t *testing.T) {
	if testing.Short() {
		t.Skip("lease records of every kind, each waited out: not under -short")
	}
	unreadable := []struct {
		name    string
		viaIdx  bool   // the contender is "tguard index" instead of "lock exec"
		reason  string // in the status: why the record cannot be read
		content func(t *testing.T, real []byte, rec map[string]any) []byte
	}{
		{"missing-record", false, "no such file", func(*testing.T, []byte, map[string]any) []byte { return nil }},
		{"empty", false, "empty", func(*testing.T, []byte, map[string]any) []byte { return []byte{} }},
		{"truncated", false, "unexpected EOF", func(_ *testing.T, real []byte, _ map[string]any) []byte { return real[:len(real)/2] }},
		{"garbage", true, "invalid character", func(*testing.T, []byte, map[string]any) []byte {
			return []byte("\xff\xfe\x00\x13\x37{\"v\":1,\x00\x00garbage\x80\x81\n")
		}},
		{"10mb", true, "more than 65536 bytes", func(t *testing.T, _ []byte, rec map[string]any) []byte {
			// A well-formed record, 10 MB long.
			return encodeRec(t, rec, map[string]any{"owner": strings.Repeat("x", 10<<20)})
		}},
		{"wrong-types", false, "cannot unmarshal", func(t *testing.T, _ []byte, rec map[string]any) []byte {
			return encodeRec(t, rec, map[string]any{"v": "1", "token": "1", "pid": "12", "lease_ms": true, "owner": 7})
		}},
		{"future-version", false, "version 2, this build reads 1", func(t *testing.T, _ []byte, rec map[string]any) []byte {
			// Version 2 with a field this build does not know, naming
			// this host and a dead PID: under version 1 rules it would be
			// provably dead, but a record this build cannot read is
			// never judged.
			return encodeRec(t, rec, map[string]any{"v": 2, "pid": deadPID(t), "lease_ms": 60000, "fence": "v2"})
		}},
	}
	for _, c := range unreadable {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			ix := filepath.Join(root, "index")
			recPath, rec := plantHeld(t, ix)
			real, err := os.ReadFile(recPath)
			require.NoError(t, err)
			if b := c.content(t, real, rec); b == nil {
				require.NoError(t, os.Remove(recPath))
			} else {
				require.NoError(t, os.WriteFile(recPath, b, 0o644))
			}

			s := statusAs(t, nil, ix)
			assert.True(t, s.Held, "an unreadable record is held, never free")
			assert.Equal(t, "unknown", s.State)
			assert.Contains(t, s.RecordError, c.reason)
			r, _ := tguardAs(t, nil, "lock", "status", "--index", ix)
			assert.Contains(t, r.Stdout, "holder record unreadable ("+s.RecordError+")")
			assert.Equal(t, uint64(1), s.Token)
			assert.False(t, s.HolderDead, "an unreadable record is never judged dead")

			var took time.Duration
			if c.viaIdx {
				docs := filepath.Join(root, "docs")
				corpus(t, docs, "bad", 1)
				r, took = tguardAs(t, nil, "index", "--index", ix, "--journal", filepath.Join(root, "j.db"),
					"--owner", "taker", "--lease", "500ms", "--wait", "10s", "--json", docs)
				require.Equal(t, 0, r.Code, r.Stderr)
				var sum struct{ Token uint64 }
				require.NoError(t, json.Unmarshal([]byte(r.Stdout), &sum), r.Stdout)
				assert.Equal(t, uint64(2), sum.Token, "a token above the planted generation")
				st := readStats(t, ix)
				assert.Equal(t, 1, st.Docs)
				assert.Equal(t, uint64(2), st.Token, "the commit carries the taker's token")
				assert.FileExists(t, filepath.Join(ix, ".tguard-lease", "1", "1", "expired"))
			} else {
				r, took = takeOver(t, nil, ix, "taker", "10s")
				require.Equal(t, 0, r.Code, r.Stderr)
				onlyTaker(t, r, ix, "taker")
			}
			assert.GreaterOrEqual(t, took, takeoverAfter, "held until it stayed unchanged for a whole lease")
			assert.Contains(t, r.Stderr, "unreadable lease record", "the takeover is logged as a warning")
			after := statusAs(t, nil, ix)
			assert.Equal(t, "released", after.State)
			assert.Equal(t, uint64(2), after.Token)
			figure(t, c.name, outHeldExpiry, r.Code, took)
		})
	}

	// This host, a dead PID: provably dead, taken at once, even though the
	// record asks for a minute-long lease that a waiter would wait out.
	t.Run("dead-pid", func(t *testing.T) {
		ix := filepath.Join(t.TempDir(), "index")
		recPath, rec := plantHeld(t, ix)
		pid := deadPID(t)
		require.NoError(t, os.WriteFile(recPath,
			encodeRec(t, rec, map[string]any{"owner": "dead-holder", "pid": pid, "lease_ms": 60000}), 0o644))
		s := statusAs(t, nil, ix)
		assert.True(t, s.Held)
		assert.Equal(t, "held", s.State)
		assert.Equal(t, "dead-holder", s.Owner)
		assert.Equal(t, pid, s.PID)
		assert.True(t, s.HolderDead)

		r, took := takeOver(t, nil, ix, "taker", "3s")
		require.Equal(t, 0, r.Code, "taken at once, not after the record's minute: %s", r.Stderr)
		onlyTaker(t, r, ix, "taker")
		figure(t, "dead-pid", outTakenOnce, r.Code, took)
	})

	// This host, a live PID of another user: signal 0 says EPERM, which
	// means alive. The record asks for a minute-long lease, so a contender
	// that took it within its --wait would have judged it dead wrongly.
	// The contender must run as a third user for signal 0 to say EPERM.
	t.Run("other-user-pid", func(t *testing.T) {
		needRoot(t)
		root := t.TempDir()
		ix := filepath.Join(root, "index")
		recPath, rec := plantHeld(t, ix)
		contender := &syscall.Credential{Uid: 65533, Gid: 65533}
		for _, d := range []string{filepath.Dir(root), root} {
			require.NoError(t, os.Chmod(d, 0o755))
		}
		require.NoError(t, filepath.Walk(ix, func(p string, _ os.FileInfo, err error) error {
			if err != nil {
				return err
			}
			return os.Lchown(p, int(contender.Uid), int(contender.Gid))
		}))

		sleeper := exec.Command("sleep", "60")
		sleeper.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		require.NoError(t, sleeper.Start())
		t.Cleanup(func() { _ = sleeper.Process.Kill(); _ = sleeper.Wait() })
		pid := sleeper.Process.Pid
		require.NoError(t, os.WriteFile(recPath, encodeRec(t, rec, map[string]any{
			"owner": "nobody-sleeper", "pid": pid, "start_time": procStart(t, pid), "lease_ms": 60000,
		}), 0o644))

		s := statusAs(t, contender, ix)
		assert.True(t, s.Held)
		assert.Equal(t, "held", s.State)
		assert.Equal(t, pid, s.PID)
		assert.False(t, s.HolderDead, "EPERM means alive")

		r, took := takeOver(t, contender, ix, "taker", "1500ms")
		assert.Equal(t, 75, r.Code, "must not take a live holder's lease: %s %s", r.Stdout, r.Stderr)
		oneLineError(t, r, "nobody-sleeper", "pid "+strconv.Itoa(pid))
		s = statusAs(t, contender, ix)
		assert.True(t, s.Held, "the lease is not treated as free")
		assert.Equal(t, "nobody-sleeper", s.Owner)
		assert.Equal(t, uint64(1), s.Token)
		assert.NoDirExists(t, filepath.Join(ix, ".tguard-lease", "2"))
		figure(t, "other-user-pid", outNotTaken, r.Code, took)

		// Control: the same record once the process has exited is taken
		// at once by the same contender, so the refusal above came from
		// EPERM, not from a record the contender could not place on its
		// own host.
		require.NoError(t, sleeper.Process.Kill())
		_ = sleeper.Wait()
		assert.True(t, statusAs(t, contender, ix).HolderDead)
		r, took = takeOver(t, contender, ix, "taker", "3s")
		require.Equal(t, 0, r.Code, r.Stderr)
		onlyTaker(t, r, ix, "taker")
		figure(t, "other-user-pid-exited", outTakenOnce, r.Code, took)
	})
}

// mountTmpfs mounts a small tmpfs at dir for the test (root only).
func mountTmpfs(t *testing.T, dir, opts string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(dir, 0o755))
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", opts, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here: %v %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", dir).Run() })
}

// roomAgain gives the tmpfs at dir room (blocks and inodes) again.
func roomAgain(t *testing.T, dir string) {
	t.Helper()
	out, err := exec.Command("mount", "-o", "remount,size=64m,nr_inodes=100000", dir).CombinedOutput()
	require.NoError(t, err, "%s", out)
}

// fillBlocks writes dir/fill until the file system is full.
func fillBlocks(t *testing.T, dir string) {
	t.Helper()
	f, err := os.Create(filepath.Join(dir, "fill"))
	require.NoError(t, err)
	defer f.Close()
	buf := make([]byte, 4096)
	for {
		if _, err := f.Write(buf); err != nil {
			require.ErrorIs(t, err, syscall.ENOSPC)
			return
		}
	}
}

// fillInodes creates empty files in dir/fill until no inode is left, then
// frees keep of them.
func fillInodes(t *testing.T, dir string, keep int) {
	t.Helper()
	fill := filepath.Join(dir, "fill")
	require.NoError(t, os.Mkdir(fill, 0o755))
	var made []string
	for i := 0; ; i++ {
		p := filepath.Join(fill, strconv.Itoa(i))
		f, err := os.Create(p)
		if err != nil {
			require.ErrorIs(t, err, syscall.ENOSPC)
			break
		}
		f.Close()
		made = append(made, p)
	}
	require.GreaterOrEqual(t, len(made), keep)
	for _, p := range made[len(made)-keep:] {
		require.NoError(t, os.Remove(p))
	}
}

func TestBadInputEnvironments(t *testing.T) {
	nobody := &syscall.Credential{Uid: 65534, Gid: 65534}
	type env struct {
		ix   string
		as   *syscall.Credential // run tguard as this user (nil: as the test)
		fix  func()              // mends the environment
		want []string            // in the one-line error, with the path
		// index refuses before journaling anything (else its error says
		// what stays journaled)
		refusedEarly bool
	}
	cases := []struct {
		name     string
		root     bool
		setup    func(t *testing.T, base string) env
		execCode int // lock exec; 0: it works
		statCode int // lock status
		idxCode  int // index
	}{
		{"read-only-folder", false, func(t *testing.T, base string) env {
			ix := filepath.Join(base, "index")
			require.NoError(t, os.Mkdir(ix, 0o755))
			if os.Geteuid() != 0 {
				require.NoError(t, os.Chmod(ix, 0o555))
				return env{ix: ix, fix: func() { require.NoError(t, os.Chmod(ix, 0o755)) },
					want: []string{ix, "permission denied"}}
			}
			// Root ignores permissions: run as nobody against root's folder.
			return env{ix: ix, as: nobody, fix: func() { require.NoError(t, os.Chmod(ix, 0o777)) },
				want: []string{ix, "permission denied"}}
		}, 1, 0, 1},
		{"missing-folder", false, func(t *testing.T, base string) env {
			// Documented: "The index folder is created if missing."
			return env{ix: filepath.Join(base, "not", "yet", "there")}
		}, 0, 0, 0},
		{"file-as-index-folder", false, func(t *testing.T, base string) env {
			ix := filepath.Join(base, "index")
			writeFile(t, ix, "not a folder\n")
			return env{ix: ix, fix: func() { require.NoError(t, os.Remove(ix)) },
				want: []string{ix, "not a folder"}, refusedEarly: true}
		}, 1, 1, 1},
		{"file-as-lease-folder", false, func(t *testing.T, base string) env {
			ix := filepath.Join(base, "index")
			lf := filepath.Join(ix, ".tguard-lease")
			writeFile(t, lf, "not a folder\n")
			return env{ix: ix, fix: func() { require.NoError(t, os.Remove(lf)) },
				want: []string{lf, "not a directory"}}
		}, 1, 1, 1},
		{"file-as-generation", false, func(t *testing.T, base string) env {
			// A file with a generation's name: the lease cannot be read,
			// so it is neither free nor held by anyone; refused until
			// someone removes the file.
			ix := filepath.Join(base, "index")
			gen := filepath.Join(ix, ".tguard-lease", "5")
			writeFile(t, gen, "not a folder\n")
			return env{ix: ix, fix: func() { require.NoError(t, os.Remove(gen)) },
				want: []string{gen, "not a directory"}}
		}, 1, 1, 1},
		{"full-disk", true, func(t *testing.T, base string) env {
			small := filepath.Join(base, "small")
			mountTmpfs(t, small, "size=64k")
			ix := filepath.Join(small, "index")
			require.NoError(t, os.Mkdir(ix, 0o755))
			fillBlocks(t, small)
			return env{ix: ix, fix: func() { roomAgain(t, small) }, want: []string{ix, "no space left on device"}}
		}, 1, 0, 1},
		{"no-inodes-left", true, func(t *testing.T, base string) env {
			// The lease folder exists (the index was used before); one
			// inode is left: enough for a generation folder, not for its
			// owner record.
			small := filepath.Join(base, "small")
			mountTmpfs(t, small, "size=1m,nr_inodes=64")
			ix := filepath.Join(small, "index")
			require.NoError(t, os.MkdirAll(filepath.Join(ix, ".tguard-lease"), 0o755))
			fillInodes(t, small, 1)
			return env{ix: ix, fix: func() { roomAgain(t, small) }, want: []string{ix, "no space left on device"}}
		}, 1, 0, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.root {
				needRoot(t)
			}
			base := t.TempDir()
			for _, d := range []string{filepath.Dir(base), base} {
				require.NoError(t, os.Chmod(d, 0o755))
			}
			// Journal and documents where the user can write and read them.
			jdir := filepath.Join(base, "journal")
			require.NoError(t, os.Mkdir(jdir, 0o777))
			require.NoError(t, os.Chmod(jdir, 0o777))
			docs := filepath.Join(base, "docs")
			corpus(t, docs, "env", 1)
			e := c.setup(t, base)

			r, took := tguardAs(t, e.as, "lock", "exec", "--index", e.ix, "--lease", "1s", "--wait", "3s", "--", "true")
			assert.Equal(t, c.execCode, r.Code, r.Stderr)
			outcome := outTakenOnce
			if c.execCode != 0 {
				outcome = outClearError
				oneLineError(t, r, e.want...)
				t.Logf("lock exec: %s", strings.TrimSpace(r.Stderr))
				assert.Less(t, took, 2*time.Second, "an error waiting cannot mend is reported at once")
			} else {
				assert.DirExists(t, e.ix)
			}

			rs, _ := tguardAs(t, e.as, "lock", "status", "--index", e.ix, "--json")
			assert.Equal(t, c.statCode, rs.Code, rs.Stderr)
			if c.statCode != 0 {
				oneLineError(t, rs, e.want...)
			} else {
				var s lockStatus
				require.NoError(t, json.Unmarshal([]byte(rs.Stdout), &s), rs.Stdout)
				assert.False(t, s.Held, "no lease left behind: %+v", s)
			}

			ri, _ := tguardAs(t, e.as, "index", "--index", e.ix, "--journal", filepath.Join(jdir, "j.db"),
				"--lease", "1s", "--wait", "3s", docs)
			assert.Equal(t, c.idxCode, ri.Code, ri.Stderr)
			if c.idxCode != 0 {
				oneLineError(t, ri, e.want...)
				t.Logf("index: %s", strings.TrimSpace(ri.Stderr))
			}
			if c.idxCode != 0 && !e.refusedEarly {
				assert.Contains(t, ri.Stderr, "1 documents stay journaled")
			}

			// Mended, the next holder gets the lease at once: nothing
			// left behind that it would have to wait out (its lease is the
			// default 30 s; --wait is 2 s).
			if e.fix != nil {
				e.fix()
			}
			rf, tookF := tguardAs(t, e.as, "lock", "exec", "--index", e.ix, "--wait", "2s", "--", "true")
			assert.Equal(t, 0, rf.Code, "after the fix: %s", rf.Stderr)
			assert.Less(t, tookF, 2*time.Second)
			rf, _ = tguardAs(t, e.as, "index", "--index", e.ix, "--journal", filepath.Join(jdir, "j.db"), "--wait", "2s", docs)
			assert.Equal(t, 0, rf.Code, "after the fix: %s", rf.Stderr)
			assert.Equal(t, 1, readStats(t, e.ix).Docs)
			figure(t, c.name, outcome, r.Code, took)
		})
	}
}
