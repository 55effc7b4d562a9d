package blueclerktest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	blueclerk "github.com/blueclerk/blueclerk-go"
)

// limiterFlaw is one way of breaking the Limiter contract.
type limiterFlaw int

const (
	soundLimiter          limiterFlaw = iota
	grantsFreePlan                    // sends on the FREE plan
	ignoresInFlight                   // counts only answered requests against the budget
	refusesInFlightWait               // refuses at once while the requests in flight hold the rest
	unboundedInFlightWait             // waits for answers in flight until ctx ends, past maxWait
	shortInFlightWait                 // gives up on answers in flight at half of maxWait
	lastReportWins                    // takes each report's Remaining, even a higher one
	keepsFirstWindow                  // takes a later reset for the same window
	neverRefuses                      // waits for the reset however far away
	staysSpentAfterReset              // refuses after the reset until an answer reports
	ignoresCancel                     // waits out its wait whatever ctx does
)

// toyLimiter is a small Limiter that keeps the contract, but for its flaw.
type toyLimiter struct {
	flaw limiterFlaw
	plan blueclerk.Plan

	mu        sync.Mutex
	known     bool // whether an answer reported the current window
	remaining int
	reset     time.Time
	inflight  int
	changed   chan struct{} // closed by the next release; made by a waiter
}

// toySameWindow is how far two resets may differ and name one window.
const toySameWindow = 15 * time.Minute

func (l *toyLimiter) Acquire(ctx context.Context, maxWait time.Duration) (func(blueclerk.RateLimit), error) {
	if l.plan == blueclerk.PlanFree && l.flaw != grantsFreePlan {
		return nil, fmt.Errorf("%w: the FREE plan", blueclerk.ErrPlanRequired)
	}
	var held time.Time // since when the requests in flight hold the rest
	for {
		l.mu.Lock()
		now := time.Now()
		passed := l.known && !now.Before(l.reset)
		if passed && l.flaw != staysSpentAfterReset {
			l.known = false // the plan's budget, until an answer reports
		}
		inflight := l.inflight
		if l.flaw == ignoresInFlight {
			inflight = 0
		}
		var (
			wait    time.Duration
			changed chan struct{}
		)
		deadline, hasDeadline := ctx.Deadline()
		switch {
		case !l.known || l.remaining > inflight:
			l.inflight++
			l.mu.Unlock()
			return l.release, nil
		case passed:
			return nil, l.refuse(now)
		case l.remaining > 0:
			if l.flaw == refusesInFlightWait {
				return nil, l.refuse(now)
			}
			if held.IsZero() {
				held = now
			}
			wait = held.Add(maxWait).Sub(now)
			if hasDeadline {
				wait = min(wait, deadline.Sub(now))
			}
			switch l.flaw {
			case unboundedInFlightWait:
				wait = time.Hour
			case shortInFlightWait:
				wait = held.Add(maxWait / 2).Sub(now)
			}
			if wait <= 0 {
				return nil, l.refuse(now)
			}
			if l.changed == nil {
				l.changed = make(chan struct{})
			}
			changed = l.changed
		default:
			wait = l.reset.Sub(now)
			if (wait > maxWait || hasDeadline && now.Add(wait).After(deadline)) && l.flaw != neverRefuses {
				return nil, l.refuse(now)
			}
		}
		l.mu.Unlock()
		done := ctx.Done()
		if l.flaw == ignoresCancel {
			done = nil
		}
		timer := time.NewTimer(wait)
		select {
		case <-changed:
		case <-timer.C:
		case <-done:
			// At its deadline, a wait for answers in flight refuses.
			if changed == nil || !errors.Is(ctx.Err(), context.DeadlineExceeded) || l.flaw == unboundedInFlightWait {
				timer.Stop()
				return nil, ctx.Err()
			}
		}
		timer.Stop()
	}
}

// refuse unlocks l and returns its refusal.
func (l *toyLimiter) refuse(now time.Time) error {
	defer l.mu.Unlock()
	return &blueclerk.RateLimitError{
		RateLimit:  blueclerk.RateLimit{Plan: l.plan, Reset: l.reset},
		RetryAfter: l.reset.Sub(now),
	}
}

func (l *toyLimiter) release(rl blueclerk.RateLimit) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.inflight--
	switch {
	case rl.Reset.IsZero() || !rl.Reset.After(time.Now()):
		l.count()
	case !l.known || rl.Reset.After(l.reset.Add(toySameWindow)) && l.flaw != keepsFirstWindow:
		l.known, l.remaining, l.reset = true, rl.Remaining, rl.Reset
	case rl.Reset.Before(l.reset.Add(-toySameWindow)): // a late answer of a past window
		l.count()
	case l.flaw == lastReportWins:
		l.remaining = rl.Remaining
	default:
		l.remaining = min(l.remaining, rl.Remaining)
	}
	if l.changed != nil {
		close(l.changed)
		l.changed = nil
	}
}

// count takes one request as used without a report.
func (l *toyLimiter) count() {
	if l.known && l.remaining > 0 {
		l.remaining--
	}
}

// TestLimiterSuite runs TestLimiter's scenarios on the toy limiter, sound
// and with each flaw: the sound one must pass, and each flaw must fail the
// scenario for the rule it breaks.
func TestLimiterSuite(t *testing.T) {
	t.Parallel()
	checkSuite(t, []flawCase[limiterFlaw]{
		{flaw: soundLimiter},
		{flaw: grantsFreePlan, want: "FreePlanRefused"},
		{flaw: ignoresInFlight, want: "RequestsInFlightCount", also: []string{"ConcurrentCallersNeverOverdraw", "WaitsForAnswersInFlight", "InFlightWaitBoundedByMaxWait", "ContextEndsWait"}},
		{flaw: refusesInFlightWait, want: "WaitsForAnswersInFlight", also: []string{"ContextEndsWait", "ConcurrentCallersNeverOverdraw", "InFlightWaitBoundedByMaxWait"}},
		{flaw: unboundedInFlightWait, want: "InFlightWaitBoundedByMaxWait"},
		{flaw: shortInFlightWait, want: "InFlightWaitBoundedByMaxWait"},
		{flaw: lastReportWins, want: "LowestRemainingWins", also: []string{"ConcurrentCallersNeverOverdraw"}},
		{flaw: keepsFirstWindow, want: "LaterResetStartsNewWindow", also: []string{"WaitsForAnswersInFlight"}},
		{flaw: neverRefuses, want: "RefusedPastWaitBound", also: []string{"ConcurrentCallersNeverOverdraw", "WaitsForAnswersInFlight"}},
		{flaw: staysSpentAfterReset, want: "WaitsForReset"},
		{flaw: ignoresCancel, want: "ContextEndsWait"},
	}, func(t *recorder, flaw limiterFlaw) {
		testLimiter(t, func(_ *recorder, p blueclerk.Plan) blueclerk.Limiter {
			return &toyLimiter{flaw: flaw, plan: p}
		})
	})
}
