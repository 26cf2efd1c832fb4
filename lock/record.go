package lock

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
)

// recordVersion is the version of the owner record this code writes. A
// record of a newer version is unreadable to it, and so treated as held by an
// unknown owner until it expires: an old binary never takes over early from
// a newer one.
//
// host_nonce was added to version 1 without a new version: builds before it
// refuse a record with that field as unknown, which is the same outcome as a
// newer version (held until expiry), and this build still reads their
// records (no nonce: never judged dead).
const recordVersion = 1

// maxRecordSize bounds what is read of an owner record; a larger file is
// garbage, not a record.
const maxRecordSize = 64 << 10

// ownerRecord is owner.json in a generation folder: who was granted the
// generation. It is written once, after the grant, and never changed.
type ownerRecord struct {
	Version int    `json:"v"`
	Token   uint64 `json:"token"`
	Identity
	LeaseMS int64 `json:"lease_ms"`
	// AcquiredAt is the holder's wall clock, for people. The protocol never
	// compares it with another clock.
	AcquiredAt time.Time `json:"acquired_at"`
}

var errBadRecord = errors.New("bad owner record")

func (r ownerRecord) lease() time.Duration { return msDuration(r.LeaseMS) }

// durationMS is d in whole milliseconds, rounded up: a lease written down
// is never shorter than the holder's.
func durationMS(d time.Duration) int64 { return int64((d + time.Millisecond - 1) / time.Millisecond) }

// msDuration is ms milliseconds, saturating instead of overflowing.
func msDuration(ms int64) time.Duration {
	if ms > int64(math.MaxInt64/time.Millisecond) {
		return math.MaxInt64
	}
	return time.Duration(ms) * time.Millisecond
}

func encodeRecord(r ownerRecord) ([]byte, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// parseRecord accepts only a complete record of a known version: a torn,
// empty, oversized or foreign file is an error, never a partial record.
func parseRecord(b []byte) (ownerRecord, error) {
	var r ownerRecord
	if len(b) == 0 {
		return r, fmt.Errorf("%w: empty", errBadRecord)
	}
	if len(b) > maxRecordSize {
		return r, fmt.Errorf("%w: more than %d bytes", errBadRecord, maxRecordSize)
	}
	// Another version is named as such before the fields are checked: a
	// newer version may well have fields this build does not know.
	var head struct {
		Version json.Number `json:"v"`
	}
	if json.Unmarshal(b, &head) == nil && head.Version != "" && head.Version != json.Number(strconv.Itoa(recordVersion)) {
		return r, fmt.Errorf("%w: version %s, this build reads %d", errBadRecord, head.Version, recordVersion)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return ownerRecord{}, fmt.Errorf("%w: %v", errBadRecord, err)
	}
	if dec.More() {
		return ownerRecord{}, fmt.Errorf("%w: trailing data", errBadRecord)
	}
	switch {
	case r.Version != recordVersion:
		return ownerRecord{}, fmt.Errorf("%w: version %d, this build reads %d", errBadRecord, r.Version, recordVersion)
	case r.Token == 0:
		return ownerRecord{}, fmt.Errorf("%w: no token", errBadRecord)
	case r.Owner == "" || r.Nonce == "":
		return ownerRecord{}, fmt.Errorf("%w: no owner", errBadRecord)
	case r.LeaseMS <= 0:
		return ownerRecord{}, fmt.Errorf("%w: lease %d ms", errBadRecord, r.LeaseMS)
	case r.PID < 0:
		return ownerRecord{}, fmt.Errorf("%w: pid %d", errBadRecord, r.PID)
	}
	return r, nil
}
