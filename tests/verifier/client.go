package verifier

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tguard/tguard/tests/helperproc"
)

// ReplyTimeout bounds how long a client waits for the server's echo.
var ReplyTimeout = 30 * time.Second

// Client is a contender's connection to a Server.
type Client struct {
	mu   sync.Mutex
	conn net.Conn
	r    *bufio.Reader
}

// Dial connects to the server at addr.
func Dial(addr string) (*Client, error) {
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return nil, fmt.Errorf("verifier: dial %s: %w", addr, err)
	}
	return &Client{conn: c, r: bufio.NewReader(c)}, nil
}

// Acquired tells the server that contender id holds the lock with token,
// and returns once the server has recorded it.
func (c *Client) Acquired(id string, token uint64) error { return c.send("acquired", id, token) }

// Released tells the server that contender id is about to give the lock
// (token) back, and returns once the server has recorded it.
func (c *Client) Released(id string, token uint64) error { return c.send("released", id, token) }

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

func (c *Client) send(kind, id string, token uint64) error {
	if err := validID(id); err != nil {
		return fmt.Errorf("verifier: %w", err)
	}
	line := fmt.Sprintf("%s %s %d", kind, id, token)
	c.mu.Lock()
	defer c.mu.Unlock()
	_ = c.conn.SetDeadline(time.Now().Add(ReplyTimeout))
	if _, err := c.conn.Write([]byte(line + "\n")); err != nil {
		return fmt.Errorf("verifier: send %q: %w", line, err)
	}
	reply, err := c.r.ReadString('\n')
	if err != nil {
		return fmt.Errorf("verifier: no echo for %q: %w", line, err)
	}
	reply = strings.TrimRight(reply, "\r\n")
	if reply != line {
		return fmt.Errorf("verifier: sent %q, server answered %q", line, reply)
	}
	return nil
}

// The contender role (tests/helperproc): the command that tguard lock exec
// runs reports its grant and release to a Server. Its parameters are
// environment variables, so that they pass through tguard lock exec.
const (
	// ContenderRole is the contender's role name; a program that plays it
	// has it in the helperproc.Roles it gives helperproc.Main.
	ContenderRole = "verifier-contender"
	// EnvAddr is the server's address.
	EnvAddr = helperproc.ParamPrefix + "VERIFIER_ADDR"
	// EnvID is the contender's id (no white space).
	EnvID = helperproc.ParamPrefix + "VERIFIER_ID"
	// EnvToken is the token to report when TGUARD_FENCING_TOKEN is not set
	// (a contender run without the lock, for a control).
	EnvToken = helperproc.ParamPrefix + "VERIFIER_TOKEN"
	// EnvHoldMin and EnvHoldMax bound the time the contender holds between
	// "acquired" and "released" (uniformly random; defaults 0 and 2ms).
	EnvHoldMin = helperproc.ParamPrefix + "VERIFIER_HOLD_MIN"
	EnvHoldMax = helperproc.ParamPrefix + "VERIFIER_HOLD_MAX"
	// FencingTokenEnv is what tguard lock exec gives its command.
	FencingTokenEnv = "TGUARD_FENCING_TOKEN"
)

// ContenderEnv is the environment that makes a process (started by tguard
// lock exec) the contender id reporting to the server at addr.
func ContenderEnv(addr, id string) []string {
	return []string{helperproc.RoleEnv + "=" + ContenderRole, EnvAddr + "=" + addr, EnvID + "=" + id}
}

// Contend is the whole life of a contender: report "acquired" with the
// token from TGUARD_FENCING_TOKEN (or EnvToken), hold for a random time,
// report "released". Register it with helperproc.Main in TestMain:
//
//	helperproc.Main(helperproc.Roles{verifier.ContenderRole: verifier.Contend})
func Contend() error {
	id := os.Getenv(EnvID)
	if id == "" {
		id = "pid" + strconv.Itoa(os.Getpid())
	}
	if err := contend(id); err != nil {
		return fmt.Errorf("contender %s: %w", id, err)
	}
	return nil
}

func contend(id string) error {
	parent := os.Getppid()
	tokenText := os.Getenv(FencingTokenEnv)
	if tokenText == "" {
		tokenText = os.Getenv(EnvToken)
	}
	if tokenText == "" {
		return fmt.Errorf("neither %s nor %s is set", FencingTokenEnv, EnvToken)
	}
	token, err := strconv.ParseUint(tokenText, 10, 64)
	if err != nil {
		return fmt.Errorf("token %q: %w", tokenText, err)
	}
	holdMin, err := envDuration(EnvHoldMin, 0)
	if err != nil {
		return err
	}
	holdMax, err := envDuration(EnvHoldMax, 2*time.Millisecond)
	if err != nil {
		return err
	}
	if holdMax < holdMin {
		holdMax = holdMin
	}
	c, err := Dial(os.Getenv(EnvAddr))
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Acquired(id, token); err != nil {
		return err
	}
	hold := holdMin
	if holdMax > holdMin {
		hold += rand.N(holdMax - holdMin + 1)
	}
	if err := holdWhileParentLives(parent, hold); err != nil {
		return err
	}
	return c.Released(id, token)
}

// holdWhileParentLives sleeps for d, but gives up as soon as parent, the
// process that started this one (tguard lock exec), is gone: a contender whose
// tguard was killed must not linger, and must not report a release.
func holdWhileParentLives(parent int, d time.Duration) error {
	const step = 50 * time.Millisecond
	end := time.Now().Add(d)
	for {
		left := time.Until(end)
		if left <= 0 {
			return nil
		}
		time.Sleep(min(left, step))
		if os.Getppid() != parent {
			return fmt.Errorf("parent process %d died while holding", parent)
		}
	}
}

func envDuration(name string, def time.Duration) (time.Duration, error) {
	s := os.Getenv(name)
	if s == "" {
		return def, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%s=%q: want a duration >= 0", name, s)
	}
	return d, nil
}
