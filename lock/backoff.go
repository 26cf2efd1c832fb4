package lock

import (
	"math/rand/v2"
	"time"
)

// backoff yields capped exponential waits with "equal jitter": half the wait
// is fixed, half random, so waiters that woke together spread out.
type backoff struct {
	next, max time.Duration
}

func (b *backoff) wait() time.Duration {
	d := b.next
	b.next = min(2*b.next, b.max)
	half := d / 2
	return half + rand.N(half+1)
}
