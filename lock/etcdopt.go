package lock

import (
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// etcdConfig is what the etcd options set; see WithEtcd.
type etcdConfig struct {
	endpoints []string
	client    *clientv3.Client // the caller's; not closed by the Locker
	key       string
}

// WithEtcd keeps the lease in an etcd cluster at endpoints ("http://host:port"
// or "host:port") instead of the lease folder: an etcd session whose TTL is
// the lease duration, and a mutex of etcd's concurrency package under a key
// prefix per index (WithEtcdKey). Every other option applies as with the
// file backend, the token floor included. The Locker makes its own client
// and closes it in Close.
func WithEtcd(endpoints ...string) Option {
	return func(c *config) error {
		if len(endpoints) == 0 {
			return errors.New("lock: etcd: no endpoints")
		}
		for _, e := range endpoints {
			if err := checkEndpoint(e); err != nil {
				return err
			}
		}
		c.etcdConfig().endpoints = append([]string(nil), endpoints...)
		return nil
	}
}

// WithEtcdClient is WithEtcd with a client the caller made (TLS, auth) and
// closes after the Locker.
func WithEtcdClient(cli *clientv3.Client) Option {
	return func(c *config) error {
		if cli == nil {
			return errors.New("lock: nil etcd client")
		}
		c.etcdConfig().client = cli
		return nil
	}
}

// WithEtcdKey names the index in etcd (default: the folder's absolute path).
// Every host of one index must name it the same: hosts that mount the share
// at different paths must set it, or they would hold two different locks.
func WithEtcdKey(key string) Option {
	return func(c *config) error {
		if key == "" || len(key) > 1024 || strings.ContainsAny(key, "\x00\r\n") {
			return fmt.Errorf("lock: etcd key %q: must be one non-empty line of at most 1024 bytes", key)
		}
		c.etcdConfig().key = key
		return nil
	}
}

func (c *config) etcdConfig() *etcdConfig {
	if c.etcd == nil {
		c.etcd = &etcdConfig{}
	}
	return c.etcd
}

// checkEndpoint accepts "http(s)://host:port" and "host:port".
func checkEndpoint(e string) error {
	bad := func(why string) error { return fmt.Errorf("lock: etcd endpoint %q: %s", e, why) }
	if e == "" {
		return bad("empty")
	}
	host := e
	if strings.Contains(e, "://") {
		u, err := url.Parse(e)
		if err != nil {
			return bad(err.Error())
		}
		if u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "unix" && u.Scheme != "unixs" {
			return bad("scheme must be http or https")
		}
		if u.Scheme == "unix" || u.Scheme == "unixs" {
			return nil
		}
		if u.Path != "" && u.Path != "/" || u.RawQuery != "" {
			return bad("want scheme://host:port and nothing after it")
		}
		host = u.Host
	}
	i := strings.LastIndexByte(host, ':')
	if i <= 0 || i == len(host)-1 {
		return bad("want host:port")
	}
	return nil
}

// validateEtcd checks the etcd options against the others.
func (c *config) validateEtcd() error {
	e := c.etcd
	if e == nil {
		return nil
	}
	if e.client != nil && len(e.endpoints) > 0 {
		return errors.New("lock: etcd: endpoints and a client: choose one")
	}
	if e.client == nil && len(e.endpoints) == 0 {
		return errors.New("lock: etcd key set without an etcd backend (WithEtcd)")
	}
	if c.backend != nil {
		return errors.New("lock: etcd and another backend: choose one")
	}
	// etcd leases count whole seconds: a shorter lease would be granted a
	// longer TTL, and waiters would wait for the longer one.
	if c.lease < time.Second {
		return fmt.Errorf("lock: lease duration %v: etcd needs at least 1s", c.lease)
	}
	return nil
}

// newEtcdClient makes the client of WithEtcd. It does not connect yet: the
// first call does, so New never blocks on a cluster that is down.
func newEtcdClient(endpoints []string) (*clientv3.Client, error) {
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:   endpoints,
		DialTimeout: 5 * time.Second,
		// The client logs retries of an unreachable cluster to stderr by
		// default; this package is silent and reports through errors.
		Logger: zap.NewNop(),
	})
	if err != nil {
		return nil, fmt.Errorf("lock: etcd client: %w", err)
	}
	return cli, nil
}

// etcdKeyFor is the default key of the index folder dir.
func etcdKeyFor(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("lock: etcd key of %s: %w", dir, err)
	}
	return filepath.ToSlash(abs), nil
}
