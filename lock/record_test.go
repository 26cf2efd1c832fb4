package lock

import (
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRecordRoundTrip(t *testing.T) {
	self, err := selfIdentity("owner-1")
	require.NoError(t, err)
	self.HostNonce = "00112233445566778899aabbccddeeff"
	in := ownerRecord{Version: recordVersion, Token: 7, Identity: self, LeaseMS: 30000,
		AcquiredAt: time.Date(2026, 11, 26, 4, 0, 0, 0, time.UTC)}
	b, err := encodeRecord(in)
	require.NoError(t, err)
	out, err := parseRecord(b)
	require.NoError(t, err)
	assert.Equal(t, in, out)

	for i := 0; i < len(b)-1; i++ {
		_, err := parseRecord(b[:i])
		assert.ErrorIs(t, err, errBadRecord, "a record torn at byte %d must not parse", i)
	}
}

// A record of a newer version is refused as such, even when it has fields
// this build does not know.
func TestRecordFutureVersionNamed(t *testing.T) {
	for _, b := range []string{
		`{"v":2,"token":3,"owner":"a","nonce":"n","lease_ms":1,"fence":"x"}`,
		`{"fence":"x","v":2}`,
	} {
		_, err := parseRecord([]byte(b))
		require.ErrorIs(t, err, errBadRecord)
		assert.Contains(t, err.Error(), "version 2, this build reads 1", b)
	}
	_, err := parseRecord([]byte(`{"v":1,"token":3,"owner":"a","nonce":"n","lease_ms":1,"fence":"x"}`))
	assert.ErrorContains(t, err, "unknown field", "version 1 has no such field")
}

// FuzzParseRecord: whatever the bytes, parseRecord returns a complete valid
// record or errBadRecord, and never panics.
func FuzzParseRecord(f *testing.F) {
	f.Add([]byte(`{"v":1,"token":3,"owner":"a","hostname":"h","pid":12,"nonce":"n","lease_ms":30000,"acquired_at":"2026-11-26T04:00:00Z"}`))
	f.Add([]byte(`{"v":1,"token":3,"owner":"a","hostname":"h","pid":12,"host_nonce":"00112233445566778899aabbccddeeff","nonce":"n","lease_ms":30000}`))
	f.Add([]byte(`{"v":2,"token":3}`))
	f.Add([]byte(``))
	f.Add([]byte{0xff, 0xfe, 0})
	f.Add([]byte(`{"v":1,"token":3,"owner":"a","nonce":"n","lease_ms":1}{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := parseRecord(b)
		if err != nil {
			if !assert.ErrorIs(t, err, errBadRecord) {
				t.FailNow()
			}
			return
		}
		if r.Version != recordVersion || r.Token == 0 || r.Owner == "" || r.Nonce == "" || r.LeaseMS <= 0 || r.PID < 0 {
			t.Fatalf("accepted an invalid record: %+v", r)
		}
		if !utf8.ValidString(r.Owner) {
			t.Fatalf("accepted invalid UTF-8 owner %q", r.Owner)
		}
	})
}
