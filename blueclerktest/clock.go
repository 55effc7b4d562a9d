package blueclerktest

import (
	"sync"
	"time"
)

// Clock is a clock a test moves by hand, for [WithClock] (pass its Now
// method) and for anything else that takes a clock. It stands still until
// [Clock.Advance] moves it, so that a test can expire authorization codes or
// tokens and end a rate window without waiting. A Clock is safe for
// concurrent use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a Clock that reads start until it is advanced.
func NewClock(start time.Time) *Clock { return &Clock{now: start} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d (backward for a negative d).
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
