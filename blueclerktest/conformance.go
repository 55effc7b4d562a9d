package blueclerktest

import (
	"context"
	"fmt"
	"time"
)

// The conformance tests, [TestLimiter], [TestTokenStore] and
// [TestDeliveryStore], state the contract of each part of the SDK that an
// integration may replace, as testing/fstest.TestFS does for a file system.
// Each runs its scenarios as subtests of t, calling the implementation's
// constructor once per scenario with the subtest's t, so that a constructor
// may use t.Cleanup, t.TempDir or a key of its own per scenario.
//
// Waits are real but short: a whole suite takes a second or two, and no
// call is awaited longer than callLimit, so that an implementation that
// hangs fails instead of stalling the test run. The suites do not use
// testing/synctest, since an implementation may keep its time elsewhere
// (such as a Redis server's clock).

const (
	// promptly is how long a call that must not wait may take: a refusal,
	// a grant with budget left, a return after ctx is canceled. It covers a
	// round trip to a server, and a machine busy with other tests under the
	// race detector.
	promptly = 2 * time.Second
	// quietFor is how long the suites watch a call that must go on
	// waiting.
	quietFor = 100 * time.Millisecond
	// callLimit is the longest the suites wait for any call.
	callLimit = 10 * time.Second
)

// tb is what the suites need of a test. *testing.T satisfies tb[*testing.T];
// the package's own tests pass a recorder instead, to see a suite fail
// against a broken implementation without failing themselves.
type tb[T any] interface {
	Helper()
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
	Skipf(format string, args ...any)
	Context() context.Context
	Run(name string, f func(T)) bool
}

// reporter is the part of a tb that the suites' non-generic helpers need.
type reporter interface {
	Helper()
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
	Context() context.Context
}

// pending is a call running in its own goroutine, so that a suite can
// watch it wait, and give up on it when it never returns.
type pending[R any] struct {
	what string
	done chan R
}

// start runs f in a goroutine of its own; what names the call in failures.
func start[R any](what string, f func() R) *pending[R] {
	p := &pending[R]{what: what, done: make(chan R, 1)}
	go func() { p.done <- f() }()
	return p
}

// wait returns f's result, failing t fatally when it has not returned
// within limit from now.
func (p *pending[R]) wait(t reporter, limit time.Duration) R {
	t.Helper()
	select {
	case r := <-p.done:
		return r
	default:
	}
	timer := time.NewTimer(limit)
	defer timer.Stop()
	select {
	case r := <-p.done:
		return r
	case <-timer.C:
		t.Fatalf("%s did not return within %v", p.what, limit.Round(time.Millisecond))
		panic("unreachable")
	}
}

// waiting reports whether the call is still running after quietFor.
func (p *pending[R]) waiting() bool {
	select {
	case r := <-p.done:
		p.done <- r
		return false
	case <-time.After(quietFor):
		return true
	}
}

// call runs f and returns its result, failing t fatally when f takes longer
// than limit.
func call[R any](t reporter, limit time.Duration, what string, f func() R) R {
	t.Helper()
	return start(what, f).wait(t, limit)
}

// scenario is one subtest of a suite, run on what the suite's constructor
// made for it.
type scenario[T tb[T], I any] struct {
	name string
	run  func(t T, impl I)
}

// runScenarios runs each scenario as a subtest of t, on what newImpl makes
// with the subtest's t.
func runScenarios[T tb[T], I any](t T, newImpl func(T) I, scenarios []scenario[T, I]) {
	for _, sc := range scenarios {
		t.Run(sc.name, func(t T) {
			impl := newImpl(t)
			if any(impl) == nil {
				t.Fatalf("the constructor returned nil")
			}
			sc.run(t, impl)
		})
	}
}

// describe names a value in a failure.
func describe(v any) string {
	switch v := v.(type) {
	case nil:
		return "no error"
	case error:
		return fmt.Sprintf("error %q", v)
	}
	return fmt.Sprintf("%v", v)
}
