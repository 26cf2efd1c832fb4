package main

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tguard/tguard/lock"
)

// The JSON of "lock status --json", "lock break --json" and serve's GET
// /lock is defined once, by statusJSON; these bytes are the contract.
func TestLockStatusJSON(t *testing.T) {
	for _, c := range []struct {
		st   lock.Status
		want string
	}{{
		lock.Status{Held: true, State: "held", Owner: "o1", Hostname: "h1", PID: 42, Token: 7,
			AcquiredAt: time.Date(2026, 1, 2, 3, 4, 5, 600_000_000, time.UTC), ExpiresIn: 1500 * time.Millisecond,
			LeaseTime: 3 * time.Second, Dead: true},
		`{"held":true,"state":"held","owner":"o1","hostname":"h1","pid":42,"token":7,"expires_in_ms":1500,"acquired_at":"2026-01-02T03:04:05.6Z","holder_dead":true}`,
	}, {
		lock.Status{State: "free", Token: 3},
		`{"held":false,"state":"free","owner":"","hostname":"","pid":0,"token":3,"expires_in_ms":0,"holder_dead":false}`,
	}, {
		lock.Status{Held: true, State: "unknown", Token: 9, RecordError: "owner.json: unexpected end of JSON input"},
		`{"held":true,"state":"unknown","owner":"","hostname":"","pid":0,"token":9,"expires_in_ms":0,"holder_dead":false,"record_error":"owner.json: unexpected end of JSON input"}`,
	}} {
		var out bytes.Buffer
		require.NoError(t, printStatus(&globals{stdout: &out}, c.st, true))
		assert.Equal(t, c.want+"\n", out.String())
	}
}
