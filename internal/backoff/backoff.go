// Package backoff spaces out retries: exponential delays with full jitter,
// and a wait that ends as soon as its context does (or, for a waiter that
// may be woken, as soon as it is).
package backoff

import (
	"context"
	"math/rand/v2"
	"time"
)

// Policy is an exponential backoff: the delay before retry n (counting from
// 0) is drawn uniformly from [0, min(Cap, Base·2ⁿ)), the "full jitter" that
// keeps many clients failing together from retrying together.
type Policy struct {
	Base time.Duration // ceiling of the first delay
	Cap  time.Duration // ceiling of every delay
}

// Delay returns a random delay for retry n.
func (p Policy) Delay(n int) time.Duration {
	ceiling := p.Base
	for i := 0; i < n && ceiling < p.Cap; i++ {
		ceiling *= 2
	}
	ceiling = min(ceiling, p.Cap)
	if ceiling <= 0 {
		return 0
	}
	return rand.N(ceiling)
}

// Sleep waits for d, or until ctx ends, whichever comes first; it returns
// ctx's error in the second case. It stops its timer before returning.
func Sleep(ctx context.Context, d time.Duration) error {
	return SleepOrWake(ctx, d, nil)
}

// SleepOrWake is Sleep that also ends, with a nil error, when wake is
// closed (a nil wake never is).
func SleepOrWake(ctx context.Context, d time.Duration, wake <-chan struct{}) error {
	if err := ctx.Err(); err != nil || d <= 0 {
		return err
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-wake:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
