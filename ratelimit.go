package blueclerk

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/blueclerk/blueclerk-go/internal/backoff"
	"github.com/blueclerk/blueclerk-go/internal/budget"
	"github.com/blueclerk/blueclerk-go/internal/header"
	"golang.org/x/time/rate"
)

// Plan is a BlueClerk subscription plan. It sets the company's hourly budget
// of API requests.
type Plan string

// The documented plans.
const (
	PlanFree    Plan = "FREE"    // no API access
	PlanStarter Plan = "STARTER" // 100 requests an hour
	PlanPro     Plan = "PRO"     // 500 requests an hour
	PlanHigh    Plan = "HIGH"    // 2,000 requests an hour
)

// HourlyLimit returns the plan's budget of requests an hour: 0 for
// [PlanFree] and for an unknown plan.
func (p Plan) HourlyLimit() int {
	switch p {
	case PlanStarter:
		return 100
	case PlanPro:
		return 500
	case PlanHigh:
		return 2000
	}
	return 0
}

// RateLimit is a company's hourly request budget as responses reported it.
type RateLimit struct {
	Plan      Plan      // the plan the client was configured with, if any
	Limit     int       // requests allowed in the window
	Remaining int       // requests left in the window
	Reset     time.Time // when the window ends and the budget renews
}

// Limiter decides when a request may be sent so that one company's traffic
// stays within its hourly budget. The in-process default serves one Client;
// a shared implementation (see the redisstore module) serves several
// processes. Implementations must be safe for concurrent use.
type Limiter interface {
	// Acquire blocks until one request may be sent. It returns a
	// *RateLimitError, having waited for nothing, when the budget is spent
	// until a reset further away than maxWait or ctx's deadline. While the
	// requests in flight hold the rest of the budget, it waits for their
	// answers within maxWait and ctx's deadline, and then returns a
	// *RateLimitError too (at once for a maxWait of 0). It returns ctx's
	// error when ctx is canceled during a wait. After a nil error the
	// caller sends the request and then calls release exactly once with
	// the budget the response reported (the zero RateLimit when it
	// reported none, or no response came; the request is then assumed to
	// have counted).
	//
	// [github.com/blueclerk/blueclerk-go/blueclerktest.TestLimiter] checks
	// an implementation against this contract.
	Acquire(ctx context.Context, maxWait time.Duration) (release func(RateLimit), err error)
}

// errFreePlan refuses every call of a client on the FREE plan.
var errFreePlan = fmt.Errorf("%w: the company is on the FREE plan; request not sent", ErrPlanRequired)

// NewLimiter returns the in-process [Limiter] for plan p ("" when the plan
// is unknown). It keeps one account of the budget for every request that
// passes it, and waits in the caller's goroutine; it starts no goroutines.
//
// Once a response has reported the budget (X-RateLimit-* or the IETF
// RateLimit fields), requests go out at once while the last reported
// Remaining, less the requests still in flight, is above zero: concurrent
// callers never overdraw it, and an occasional caller never waits. Within
// one window the lowest Remaining reported wins, whatever order answers
// arrive in; a later Reset starts a new window, and when the Reset passes
// the plan's full budget is assumed until an answer says otherwise. A
// response without a report counts as one request used. While the requests
// in flight hold the rest of the budget, Acquire waits for their answers to
// tell whether any is left, for at most maxWait and until ctx's deadline,
// and then fails with [*RateLimitError] (at once when maxWait is 0). When
// the budget is spent, Acquire waits for the reset if that is within
// maxWait and ctx's deadline, and otherwise fails at once with
// [*RateLimitError]. It does not spread a known budget over the hour: the
// server counts a fixed window, where a request sent early costs the same
// as one sent late, so pacing would only slow callers down.
//
// Before any report, a known plan is kept by a token bucket holding half
// the hourly budget, refilled at the rate of the other half: a fresh client
// may burst (the bucket is full), pacing bites only when it runs low, and no
// hour, however aligned with the server's window, sees more than the plan
// allows. Without a plan nothing is paced until the first answer reports
// the budget. For [PlanFree], Acquire fails with [ErrPlanRequired].
func NewLimiter(p Plan) Limiter {
	l := &limiter{plan: p}
	if n := p.HourlyLimit(); n > 0 {
		l.w.Limit = n
		burst := n / 2
		l.pace = rate.NewLimiter(rate.Limit(float64(n-burst)/budget.Length.Seconds()), burst)
	}
	l.releaseFn = l.release
	return l
}

// limiter is the in-process Limiter.
type limiter struct {
	plan      Plan
	pace      *rate.Limiter   // before any report; nil without a plan
	releaseFn func(RateLimit) // l.release, bound once so Acquire does not allocate

	mu       sync.Mutex
	w        budget.Window
	inflight int           // requests acquired and not yet released
	changed  chan struct{} // closed by the next release; made by a waiter
}

func (l *limiter) Acquire(ctx context.Context, maxWait time.Duration) (func(RateLimit), error) {
	if l.plan == PlanFree {
		return nil, errFreePlan
	}
	var paced *rate.Reservation // a pacing slot already waited for
	var held time.Time          // since when the requests in flight hold the rest of the budget
	l.mu.Lock()
	for {
		now := time.Now()
		l.w.Roll(now)
		var (
			wait    time.Duration
			changed chan struct{}
		)
		switch {
		case l.w.Known() && l.w.Remaining > l.inflight,
			!l.w.Known() && (paced != nil || l.pace == nil || l.pace.AllowN(now, 1)):
			l.inflight++
			l.mu.Unlock()
			return l.releaseFn, nil
		case !l.w.Known():
			paced = l.pace.ReserveN(now, 1)
			wait = paced.DelayFrom(now)
			if !fits(ctx, now, wait, maxWait) {
				paced.CancelAt(now)
				err := l.refusal(now, wait)
				l.mu.Unlock()
				return nil, err
			}
		case l.w.Remaining > 0:
			// The rest of the budget is in flight: its answers will say
			// whether any is left. They are waited for within maxWait of
			// when this call first found it so, and within ctx's deadline;
			// then the call is refused, as a spent budget would be, with
			// the reset as the time budget is sure to be back.
			if held.IsZero() {
				held = now
			}
			wait = held.Add(maxWait).Sub(now)
			if deadline, ok := ctx.Deadline(); ok {
				wait = min(wait, deadline.Sub(now))
			}
			if wait <= 0 {
				err := l.refusal(now, l.w.Reset.Sub(now))
				l.mu.Unlock()
				return nil, err
			}
			if l.changed == nil {
				l.changed = make(chan struct{})
			}
			changed = l.changed
		default:
			wait = l.w.Reset.Sub(now)
			if !fits(ctx, now, wait, maxWait) {
				err := l.refusal(now, wait)
				l.mu.Unlock()
				return nil, err
			}
		}
		l.mu.Unlock()
		err := backoff.SleepOrWake(ctx, wait, changed) // changed is nil but for answers in flight
		if changed != nil && errors.Is(err, context.DeadlineExceeded) {
			// ctx's deadline bounds the wait for answers like maxWait:
			// the next turn finds the bound reached and refuses.
			err = nil
		}
		if err != nil {
			if paced != nil {
				paced.Cancel()
			}
			return nil, err
		}
		l.mu.Lock()
	}
}

func (l *limiter) release(rl RateLimit) {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.inflight > 0 {
		l.inflight--
	}
	if rl.Reset.IsZero() || !l.w.Observe(rl.Limit, rl.Remaining, rl.Reset, now) {
		l.w.Count()
	}
	if l.changed != nil {
		close(l.changed)
		l.changed = nil
	}
}

// refusal is the error for a request that would have to wait d.
func (l *limiter) refusal(now time.Time, d time.Duration) error {
	return &RateLimitError{
		RateLimit:  RateLimit{Plan: l.plan, Limit: l.w.Limit, Remaining: max(l.w.Remaining-l.inflight, 0), Reset: now.Add(d)},
		RetryAfter: d,
	}
}

// fits reports whether a wait of d is within maxWait and ctx's deadline.
func fits(ctx context.Context, now time.Time, d, maxWait time.Duration) bool {
	return d <= maxWait && beforeDeadline(ctx, now, d)
}

// beforeDeadline reports whether a wait of d ends before ctx's deadline.
func beforeDeadline(ctx context.Context, now time.Time, d time.Duration) bool {
	deadline, ok := ctx.Deadline()
	return !ok || !now.Add(d).After(deadline)
}

// limitState is the Client's view of its budget, kept by every answer.
type limitState struct {
	mu sync.Mutex
	w  budget.Window
}

func (s *limitState) observe(rl RateLimit, now time.Time) {
	if rl.Reset.IsZero() {
		return
	}
	s.mu.Lock()
	s.w.Observe(rl.Limit, rl.Remaining, rl.Reset, now)
	s.mu.Unlock()
}

// RateLimit returns the budget the answers reported, the lowest Remaining of
// the latest window, with Plan as set by [WithPlan]; before any answer
// reported one, only Plan is set. It is safe to call concurrently with
// requests.
func (c *Client) RateLimit() RateLimit {
	c.limits.mu.Lock()
	defer c.limits.mu.Unlock()
	w := &c.limits.w
	if !w.Known() {
		return RateLimit{Plan: c.plan}
	}
	return RateLimit{Plan: c.plan, Limit: w.Limit, Remaining: w.Remaining, Reset: w.Reset}
}

// parseRateLimit reads the budget headers of a response. The zero RateLimit
// means the response reported none.
func parseRateLimit(h http.Header, now time.Time) RateLimit {
	b, ok := header.RateLimit(h, now)
	if !ok {
		return RateLimit{}
	}
	return RateLimit{Limit: b.Limit, Remaining: b.Remaining, Reset: b.Reset}
}
