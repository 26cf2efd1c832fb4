package lock_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/tguard/tguard/lock"
)

// Two lockers take turns on one folder; the second is granted the lease,
// with a greater fencing token, once the first releases it.
func Example() {
	dir, _ := os.MkdirTemp("", "lock-example")
	defer os.RemoveAll(dir)
	ctx := context.Background()

	first, _ := lock.New(dir, lock.WithOwner("first"), lock.WithLeaseDuration(10*time.Second))
	second, _ := lock.New(dir, lock.WithOwner("second"))
	defer first.Close()
	defer second.Close()

	lease, err := first.Acquire(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("first holds token", lease.Token())

	_, err = second.TryAcquire(ctx)
	var held *lock.HeldError
	if errors.As(err, &held) {
		fmt.Println("second: held by", held.Holder.Owner)
	}

	// Stop writing at once if the lease is lost.
	select {
	case <-lease.Done():
		fmt.Println("lost:", lease.Err())
	default:
	}
	_ = lease.Release(ctx)

	lease2, _ := second.Acquire(ctx)
	fmt.Println("second holds token", lease2.Token())
	_ = lease2.Release(ctx)
	// Output:
	// first holds token 1
	// second: held by first
	// second holds token 2
}
