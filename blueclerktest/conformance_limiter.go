package blueclerktest

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	blueclerk "github.com/blueclerk/blueclerk-go"
)

// TestLimiter checks that a [blueclerk.Limiter] keeps the contract the SDK
// relies on, as a subtest per rule, and fails t for each rule it breaks:
//
//   - FreePlanRefused: on [blueclerk.PlanFree] every Acquire fails with an
//     error matching [blueclerk.ErrPlanRequired].
//   - FirstRequestsAtOnce: before any answer has reported the budget, an
//     occasional request goes at once, whatever the plan.
//   - ConcurrentCallersNeverOverdraw: callers acquiring concurrently never
//     get more requests than the budget answers report, and get all of it.
//   - RequestsInFlightCount: requests acquired and not yet released count
//     against the last Remaining reported.
//   - WaitsForAnswersInFlight: while the requests in flight hold the rest of
//     the budget, Acquire waits for their answers, is let through when one
//     reports a new window and refused at once when they report the budget
//     spent.
//   - InFlightWaitBoundedByMaxWait: that wait lasts until maxWait or ctx's
//     deadline, whichever comes first, and then ends with a
//     [*blueclerk.RateLimitError]; at once when maxWait is 0.
//   - LowestRemainingWins: within one window the lowest Remaining reported
//     wins, whatever order the answers arrive in; a release without a
//     report counts one request.
//   - LaterResetStartsNewWindow: a report with a later Reset starts a new
//     window, even with more left; a late answer of the past window does
//     not raise it.
//   - RefusedPastWaitBound: with the budget spent until a reset further
//     away than maxWait or ctx's deadline, Acquire fails at once with a
//     [*blueclerk.RateLimitError] whose Err is nil and whose RateLimit.Reset
//     is the reset reported.
//   - WaitsForReset: with the reset within maxWait, Acquire waits for it,
//     and after it the plan's budget is there again.
//   - ContextEndsWait: a canceled ctx ends a wait, for the reset or for
//     answers in flight, with ctx's error.
//
// newLimiter must return a new Limiter for plan p, with an account of its
// own (for a shared limiter, on a key of its own), each time it is called;
// the suite calls it with the t of the subtest that uses the Limiter, once
// or a few times per subtest. The suite tells each Limiter the budget only
// as the SDK does, through the release function of the requests it
// acquired, with resets from a fraction of a second to two hours after
// [time.Now]; an implementation must read time from a clock that agrees
// with it. Its waits are real and short: the suite takes a few seconds.
func TestLimiter(t *testing.T, newLimiter func(t *testing.T, p blueclerk.Plan) blueclerk.Limiter) {
	t.Helper()
	testLimiter(t, newLimiter)
}

// newLimiterFunc makes a Limiter for a plan, within one subtest.
type newLimiterFunc func(blueclerk.Plan) blueclerk.Limiter

func testLimiter[T tb[T]](t T, newLimiter func(T, blueclerk.Plan) blueclerk.Limiter) {
	mk := func(t T) newLimiterFunc {
		return func(p blueclerk.Plan) blueclerk.Limiter {
			t.Helper()
			l := newLimiter(t, p)
			if l == nil {
				t.Fatalf("newLimiter(t, %q) returned nil", p)
			}
			return l
		}
	}
	runScenarios(t, mk, []scenario[T, newLimiterFunc]{
		{"FreePlanRefused", limiterFreePlan[T]},
		{"FirstRequestsAtOnce", limiterFirstRequests[T]},
		{"ConcurrentCallersNeverOverdraw", limiterNeverOverdraw[T]},
		{"RequestsInFlightCount", limiterInFlightCount[T]},
		{"WaitsForAnswersInFlight", limiterWaitsForAnswers[T]},
		{"InFlightWaitBoundedByMaxWait", limiterInFlightBounded[T]},
		{"LowestRemainingWins", limiterLowestWins[T]},
		{"LaterResetStartsNewWindow", limiterNewWindow[T]},
		{"RefusedPastWaitBound", limiterRefusedPastBound[T]},
		{"WaitsForReset", limiterWaitsForReset[T]},
		{"ContextEndsWait", limiterContextEndsWait[T]},
	})
}

func limiterFreePlan[T tb[T]](t T, newLimiter newLimiterFunc) {
	l := newLimiter(blueclerk.PlanFree)
	r := acquireWithin(t, t.Context(), l, time.Minute, promptly, "Acquire on the FREE plan")
	switch {
	case r.err == nil:
		r.release(blueclerk.RateLimit{})
		t.Errorf("Acquire on the FREE plan granted a request; want an error matching blueclerk.ErrPlanRequired")
	case !errors.Is(r.err, blueclerk.ErrPlanRequired):
		t.Errorf("Acquire on the FREE plan: %s; want an error matching blueclerk.ErrPlanRequired", describe(r.err))
	}
}

func limiterFirstRequests[T tb[T]](t T, newLimiter newLimiterFunc) {
	for _, p := range []blueclerk.Plan{"", blueclerk.PlanStarter, blueclerk.PlanPro, blueclerk.PlanHigh} {
		l := newLimiter(p)
		for i := range 2 {
			mustGrant(t, l, "request %d on plan %q before any report", i+1, p)(blueclerk.RateLimit{})
		}
	}
}

func limiterNeverOverdraw[T tb[T]](t T, newLimiter newLimiterFunc) {
	const budget, callers = 20, 16
	l := newLimiter(blueclerk.PlanPro)
	reset := time.Now().Add(time.Hour)
	report(t, l, blueclerk.RateLimit{Limit: 500, Remaining: budget, Reset: reset})

	// A server's account: each request takes one, and its answer reports
	// what was left when it was served.
	var served atomic.Int64
	ctx, cancel := context.WithTimeout(t.Context(), promptly)
	defer cancel()
	var wg sync.WaitGroup
	ends := make(chan error, callers)
	for range callers {
		wg.Go(func() {
			for {
				release, err := l.Acquire(ctx, promptly/2)
				if err != nil {
					ends <- err
					return
				}
				n := served.Add(1)
				runtime.Gosched() // let answers overtake each other
				release(blueclerk.RateLimit{Limit: 500, Remaining: max(budget-int(n), 0), Reset: reset})
			}
		})
	}
	call(t, 2*promptly, "the concurrent callers", func() bool { wg.Wait(); return true })
	close(ends)
	for err := range ends {
		if _, ok := errors.AsType[*blueclerk.RateLimitError](err); !ok {
			t.Errorf("a caller stopped with %s; want *blueclerk.RateLimitError once the budget is spent", describe(err))
			break
		}
	}
	switch n := served.Load(); {
	case n > budget:
		t.Errorf("%d callers got %d requests from a budget of %d: the budget was overdrawn", callers, n, budget)
	case n < budget:
		t.Errorf("%d callers got %d requests from a budget of %d before being refused; want all of it", callers, n, budget)
	}
}

func limiterInFlightCount[T tb[T]](t T, newLimiter newLimiterFunc) {
	l := newLimiter(blueclerk.PlanPro)
	reset := time.Now().Add(time.Hour)
	report(t, l, blueclerk.RateLimit{Limit: 500, Remaining: 3, Reset: reset})
	var held []func(blueclerk.RateLimit)
	for i := range 3 {
		held = append(held, mustGrant(t, l, "request %d of 3 left", i+1))
	}
	notGranted(t, l, "with 3 left and 3 in flight")
	held[0](blueclerk.RateLimit{Limit: 500, Remaining: 2, Reset: reset})
	notGranted(t, l, "with 2 left and 2 in flight")
	held[1](blueclerk.RateLimit{Limit: 500, Remaining: 1, Reset: reset})
	held[2](blueclerk.RateLimit{Limit: 500, Remaining: 0, Reset: reset})
	notGranted(t, l, "with none left")
}

func limiterWaitsForAnswers[T tb[T]](t T, newLimiter newLimiterFunc) {
	l := newLimiter(blueclerk.PlanPro)
	reset := time.Now().Add(time.Hour)
	next := reset.Add(time.Hour)
	report(t, l, blueclerk.RateLimit{Limit: 500, Remaining: 1, Reset: reset})

	// The answer in flight reports a new window: the waiter goes.
	held := mustGrant(t, l, "the last request left")
	waiter := waitingAcquire(t, l)
	held(blueclerk.RateLimit{Limit: 500, Remaining: 10, Reset: next})
	r := waiter.wait(t, promptly)
	if r.err != nil {
		t.Fatalf("the answer in flight reported a new window with 10 left, and the waiting Acquire failed: %s; want a grant", describe(r.err))
	}
	r.release(blueclerk.RateLimit{Limit: 500, Remaining: 1, Reset: next})

	// The answer in flight reports the budget spent until a reset beyond
	// maxWait: the waiter is refused without waiting on.
	held = mustGrant(t, l, "the last request left")
	waiter = waitingAcquire(t, l)
	held(blueclerk.RateLimit{Limit: 500, Remaining: 0, Reset: next})
	r = waiter.wait(t, promptly)
	wantRefusal(t, r, "the answer in flight reported the budget spent for two hours")
}

// waitingAcquire starts an Acquire, with maxWait half of callLimit, that
// must wait because the rest of l's budget is in flight.
func waitingAcquire(t reporter, l blueclerk.Limiter) *pending[acquired] {
	t.Helper()
	const maxWait = callLimit / 2
	waiter := acquireAsync(t.Context(), l, maxWait, "Acquire with the rest of the budget in flight")
	if !waiter.waiting() {
		r := waiter.wait(t, 0)
		r.releaseIfGranted()
		t.Fatalf("with the rest of the budget in flight and maxWait %v, Acquire returned (%s) before the answer came; want it to wait for the answer", maxWait, describe(r.err))
	}
	return waiter
}

func limiterInFlightBounded[T tb[T]](t T, newLimiter newLimiterFunc) {
	l := newLimiter(blueclerk.PlanPro)
	reset := time.Now().Add(time.Hour)
	report(t, l, blueclerk.RateLimit{Limit: 500, Remaining: 1, Reset: reset})
	held := mustGrant(t, l, "the last request left")
	defer held(blueclerk.RateLimit{Limit: 500, Remaining: 0, Reset: reset})
	const bound = 300 * time.Millisecond
	for _, tc := range []struct {
		what             string
		maxWait, timeout time.Duration
		bound            time.Duration
	}{
		{"maxWait 0", 0, callLimit, 0},
		{"maxWait " + bound.String(), bound, callLimit, bound},
		{"maxWait 1h and ctx's deadline in " + bound.String(), time.Hour, bound, bound},
	} {
		ctx, cancel := context.WithTimeout(t.Context(), tc.timeout)
		began := time.Now()
		r := acquireWithin(t, ctx, l, tc.maxWait, tc.bound+promptly, "Acquire with the rest of the budget in flight and "+tc.what)
		waited := time.Since(began)
		cancel()
		wantRefusal(t, r, "the rest of the budget in flight, no answer, "+tc.what)
		// The answers in flight may yet report budget: the wait for them
		// lasts its bound, give or take a poll.
		if early := tc.bound - tc.bound/4; waited < early {
			t.Errorf("Acquire with the rest of the budget in flight and %s was refused after %v; want a wait of about %v for the answers in flight", tc.what, waited.Round(time.Millisecond), tc.bound)
		}
	}
}

func limiterLowestWins[T tb[T]](t T, newLimiter newLimiterFunc) {
	l := newLimiter(blueclerk.PlanPro)
	reset := time.Now().Add(time.Hour)
	held := grantBeforeReport(t, l, 3)
	held[0](blueclerk.RateLimit{Limit: 500, Remaining: 5, Reset: reset})
	held[1](blueclerk.RateLimit{Limit: 500, Remaining: 2, Reset: reset})
	held[2](blueclerk.RateLimit{Limit: 500, Remaining: 7, Reset: reset}) // left earlier, arrived later
	if n := countGrants(t, l, 20); n != 2 {
		t.Errorf("answers reported 5, 2 and 7 left in one window, and %d requests were granted after them; want 2, the lowest", n)
	}
}

func limiterNewWindow[T tb[T]](t T, newLimiter newLimiterFunc) {
	l := newLimiter(blueclerk.PlanPro)
	reset := time.Now().Add(time.Hour)
	held := grantBeforeReport(t, l, 3)
	held[0](blueclerk.RateLimit{Limit: 500, Remaining: 0, Reset: reset})
	notGranted(t, l, "with none left")
	held[1](blueclerk.RateLimit{Limit: 500, Remaining: 10, Reset: reset.Add(time.Hour)})
	held[2](blueclerk.RateLimit{Limit: 500, Remaining: 100, Reset: reset}) // a late answer of the past window
	// The late answer may count as one request of the new window.
	if n := countGrants(t, l, 150); n < 9 || n > 10 {
		t.Errorf("an answer reported 10 left in the window after the spent one, then a late one 100 left in the spent one, and %d requests were granted after them; want 10 (9 if the late answer counts as a request)", n)
	}
}

func limiterRefusedPastBound[T tb[T]](t T, newLimiter newLimiterFunc) {
	l := newLimiter(blueclerk.PlanPro)
	reset := time.Now().Add(time.Hour)
	report(t, l, blueclerk.RateLimit{Limit: 500, Remaining: 0, Reset: reset})
	for _, tc := range []struct {
		what             string
		maxWait, timeout time.Duration
	}{
		{"maxWait 0", 0, callLimit},
		{"maxWait 1m", time.Minute, callLimit},
		{"maxWait 2h and ctx's deadline in 1s", 2 * time.Hour, time.Second},
	} {
		ctx, cancel := context.WithTimeout(t.Context(), tc.timeout)
		r := acquireWithin(t, ctx, l, tc.maxWait, promptly, "Acquire with the budget spent for an hour and "+tc.what)
		cancel()
		why := "the budget spent for an hour, " + tc.what
		rle := wantRefusal(t, r, why)
		if rle == nil {
			continue
		}
		if d := rle.RateLimit.Reset.Sub(reset); d < -time.Second || d > time.Second {
			t.Errorf("%s: RateLimitError.RateLimit.Reset = %v; want the reset reported, %v", why, rle.RateLimit.Reset, reset)
		}
		if left := time.Until(reset); rle.RetryAfter < left-promptly || rle.RetryAfter > left+time.Second {
			t.Errorf("%s: RateLimitError.RetryAfter = %v; want the time until the reset, %v", why, rle.RetryAfter, left.Round(time.Second))
		}
	}
}

func limiterWaitsForReset[T tb[T]](t T, newLimiter newLimiterFunc) {
	l := newLimiter(blueclerk.PlanPro)
	reset := time.Now().Add(300 * time.Millisecond)
	report(t, l, blueclerk.RateLimit{Limit: 500, Remaining: 0, Reset: reset})
	r := acquireWithin(t, t.Context(), l, callLimit/2, time.Until(reset)+promptly, "Acquire with the budget spent until a reset within maxWait")
	if r.err != nil {
		t.Fatalf("the budget spent for 300ms, maxWait %v: Acquire failed with %s; want a grant after the reset", callLimit/2, describe(r.err))
	}
	r.release(blueclerk.RateLimit{})
	if early := time.Until(reset); early > 10*time.Millisecond {
		t.Errorf("the budget spent for 300ms: Acquire granted a request %v before the reset", early)
	}
	mustGrant(t, l, "a request after the reset, the plan's budget being there again")(blueclerk.RateLimit{})
}

func limiterContextEndsWait[T tb[T]](t T, newLimiter newLimiterFunc) {
	for _, tc := range []struct {
		what string
		seed func(l blueclerk.Limiter) (release func())
	}{
		{"a wait for the reset", func(l blueclerk.Limiter) func() {
			report(t, l, blueclerk.RateLimit{Limit: 500, Remaining: 0, Reset: time.Now().Add(3 * time.Second)})
			return func() {}
		}},
		{"a wait for the answers in flight", func(l blueclerk.Limiter) func() {
			reset := time.Now().Add(time.Hour)
			report(t, l, blueclerk.RateLimit{Limit: 500, Remaining: 1, Reset: reset})
			held := mustGrant(t, l, "the last request left")
			return func() { held(blueclerk.RateLimit{Limit: 500, Remaining: 0, Reset: reset}) }
		}},
	} {
		l := newLimiter(blueclerk.PlanPro)
		done := tc.seed(l)
		ctx, cancel := context.WithCancel(t.Context())
		waiter := acquireAsync(ctx, l, time.Minute, "Acquire in "+tc.what)
		waiting := waiter.waiting()
		cancel()
		r := waiter.wait(t, promptly)
		done()
		switch {
		case !waiting:
			r.releaseIfGranted()
			t.Errorf("%s with maxWait 1m: Acquire returned (%s) without waiting", tc.what, describe(r.err))
		case !errors.Is(r.err, context.Canceled):
			r.releaseIfGranted()
			t.Errorf("%s, ctx canceled: Acquire returned %s; want ctx's error, context.Canceled", tc.what, describe(r.err))
		}
	}
}

// acquired is the result of one Acquire.
type acquired struct {
	release func(blueclerk.RateLimit)
	err     error
}

// releaseIfGranted releases a request the suite did not want granted, as
// if its answer reported nothing.
func (r acquired) releaseIfGranted() {
	if r.err == nil && r.release != nil {
		r.release(blueclerk.RateLimit{})
	}
}

// acquireAsync starts l.Acquire(ctx, maxWait) in a goroutine of its own.
func acquireAsync(ctx context.Context, l blueclerk.Limiter, maxWait time.Duration, what string) *pending[acquired] {
	return start(what, func() acquired {
		release, err := l.Acquire(ctx, maxWait)
		if err == nil && release == nil {
			err = errors.New("no error, but a nil release function")
		}
		return acquired{release, err}
	})
}

// acquireWithin calls l.Acquire(ctx, maxWait), failing t fatally when it
// takes longer than limit.
func acquireWithin(t reporter, ctx context.Context, l blueclerk.Limiter, maxWait, limit time.Duration, what string) acquired {
	t.Helper()
	return acquireAsync(ctx, l, maxWait, what).wait(t, limit)
}

// mustGrant acquires a request that l must grant at once, with maxWait 0.
func mustGrant(t reporter, l blueclerk.Limiter, format string, args ...any) func(blueclerk.RateLimit) {
	t.Helper()
	what := fmt.Sprintf(format, args...)
	r := acquireWithin(t, t.Context(), l, 0, promptly, "Acquire for "+what)
	if r.err != nil {
		t.Fatalf("Acquire for %s: %s; want a grant at once", what, describe(r.err))
	}
	return r.release
}

// grantBeforeReport acquires n requests of a fresh l, which must grant
// them at once, and returns their releases.
func grantBeforeReport(t reporter, l blueclerk.Limiter, n int) []func(blueclerk.RateLimit) {
	t.Helper()
	var held []func(blueclerk.RateLimit)
	for i := range n {
		held = append(held, mustGrant(t, l, "request %d before any report", i+1))
	}
	return held
}

// report tells l a budget, as the answer to one request.
func report(t reporter, l blueclerk.Limiter, rl blueclerk.RateLimit) {
	t.Helper()
	mustGrant(t, l, "the request whose answer reports %d left", rl.Remaining)(rl)
}

// notGranted checks that l does not grant a request at once with
// maxWait 0; refusing, or waiting until ctx ends, are both taken.
func notGranted(t reporter, l blueclerk.Limiter, why string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), quietFor)
	defer cancel()
	if r := acquireWithin(t, ctx, l, 0, quietFor+promptly, "Acquire "+why); r.err == nil {
		r.release(blueclerk.RateLimit{})
		t.Errorf("%s, Acquire(ctx, 0) granted a request; want none", why)
	}
}

// wantRefusal checks that r is a refusal with *blueclerk.RateLimitError,
// nothing sent, and returns it; it returns nil after reporting anything else.
func wantRefusal(t reporter, r acquired, why string) *blueclerk.RateLimitError {
	t.Helper()
	if r.err == nil {
		r.releaseIfGranted()
		t.Errorf("%s: Acquire granted a request; want *blueclerk.RateLimitError", why)
		return nil
	}
	rle, ok := errors.AsType[*blueclerk.RateLimitError](r.err)
	switch {
	case !ok:
		t.Errorf("%s: Acquire returned %s; want *blueclerk.RateLimitError", why, describe(r.err))
		return nil
	case rle.Err != nil:
		t.Errorf("%s: RateLimitError.Err = %v; want nil, nothing having been sent", why, rle.Err)
	}
	return rle
}

// countGrants acquires and releases requests one at a time, each answer
// reporting nothing, until l refuses one or max were granted, and returns
// how many were granted.
func countGrants(t reporter, l blueclerk.Limiter, max int) int {
	t.Helper()
	for n := range max {
		ctx, cancel := context.WithTimeout(t.Context(), quietFor)
		r := acquireWithin(t, ctx, l, 0, quietFor+promptly, "Acquire with maxWait 0")
		cancel()
		if r.err != nil {
			return n
		}
		r.release(blueclerk.RateLimit{})
	}
	return max
}
