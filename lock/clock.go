package lock

import "time"

// Clock gives wall-clock readings. The protocol never compares wall clocks
// between processes: wall time only fills the fields people read in Status.
// Durations that matter (deadlines, expiry) come from the monotonic clock,
// which a Clock cannot change.
type Clock interface {
	Now() time.Time
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// SkewedClock returns a Clock whose wall readings are offset by skew, to
// show and test that clock skew between hosts does not break the protocol.
func SkewedClock(skew time.Duration) Clock { return skewedClock{skew} }

type skewedClock struct{ skew time.Duration }

// Now keeps the monotonic reading of time.Now (Add preserves it), so only
// the wall part moves.
func (c skewedClock) Now() time.Time { return time.Now().Add(c.skew) }
