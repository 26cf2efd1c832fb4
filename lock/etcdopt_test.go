package lock

import (
	"context"
	"strings"
	"testing"
	"time"
)

// The etcd options are checked by New, before anything connects.
func TestEtcdOptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []Option
		want string // "" for no error, else a part of the error
	}{
		{"host:port", []Option{WithEtcd("127.0.0.1:2379")}, ""},
		{"urls", []Option{WithEtcd("http://a:2379", "https://b:2379")}, ""},
		{"no endpoints", []Option{WithEtcd()}, "no endpoints"},
		{"empty endpoint", []Option{WithEtcd("")}, "empty"},
		{"no port", []Option{WithEtcd("etcd1")}, "host:port"},
		{"path", []Option{WithEtcd("http://a:2379/x")}, "nothing after it"},
		{"scheme", []Option{WithEtcd("ftp://a:2379")}, "scheme"},
		{"key alone", []Option{WithEtcdKey("idx")}, "without an etcd backend"},
		{"bad key", []Option{WithEtcd("a:1"), WithEtcdKey("a\nb")}, "one non-empty line"},
		{"short lease", []Option{WithEtcd("a:1"), WithLeaseDuration(500 * time.Millisecond)}, "at least 1s"},
		{"nil client", []Option{WithEtcdClient(nil)}, "nil etcd client"},
		{"floor", []Option{WithEtcd("a:1"), WithTokenFloor(func(context.Context) (uint64, error) { return 0, nil })}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := New(t.TempDir(), tc.opts...)
			if err == nil {
				l.Close()
			}
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("New: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("New: %v, want an error with %q", err, tc.want)
			}
		})
	}
}
