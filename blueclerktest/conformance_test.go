package blueclerktest

import (
	"context"
	"fmt"
	"path"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
)

// recorder is a test that records what a suite reports instead of failing:
// it lets this package's tests run a suite on a broken implementation and
// check that the suite fails, and which of its subtests do.
type recorder struct {
	name   string
	ctx    context.Context
	cancel context.CancelFunc

	mu       sync.Mutex
	failed   bool
	skipped  bool
	log      []string
	failures []string // the names of the failed subtests without failed subtests of their own
	cleanups []func()
}

func newRecorder(name string) *recorder {
	ctx, cancel := context.WithCancel(context.Background())
	return &recorder{name: name, ctx: ctx, cancel: cancel}
}

func (r *recorder) Helper()                  {}
func (r *recorder) Context() context.Context { return r.ctx }

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failed = true
	r.log = append(r.log, r.name+": "+fmt.Sprintf(format, args...))
}

// Fatalf records the failure and ends the subtest's goroutine, as
// testing.T.Fatalf does.
func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	runtime.Goexit()
}

func (r *recorder) Skipf(format string, args ...any) {
	r.mu.Lock()
	r.skipped = true
	r.log = append(r.log, r.name+": skipped: "+fmt.Sprintf(format, args...))
	r.mu.Unlock()
	runtime.Goexit()
}

func (r *recorder) Cleanup(f func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cleanups = append(r.cleanups, f)
}

// Run runs f as a subtest in a goroutine of its own, as testing.T.Run does,
// and waits for it.
func (r *recorder) Run(name string, f func(*recorder)) bool {
	sub := newRecorder(path.Join(r.name, name))
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer sub.finish()
		f(sub)
	}()
	<-done
	r.mu.Lock()
	defer r.mu.Unlock()
	r.log = append(r.log, sub.log...)
	if sub.failed {
		r.failed = true
		if len(sub.failures) == 0 {
			r.failures = append(r.failures, sub.name)
		}
		r.failures = append(r.failures, sub.failures...)
	}
	return !sub.failed
}

// finish ends a subtest: its context, then its cleanups, last first.
func (r *recorder) finish() {
	r.cancel()
	for i := len(r.cleanups) - 1; i >= 0; i-- {
		r.cleanups[i]()
	}
}

// suiteReport is what a suite reported on one implementation.
type suiteReport struct {
	failures []string // the failed subtests, by name below the suite's
	log      []string // every line the subtests logged, failures included
}

// flawCase is one implementation a suite's own test runs the suite on: the
// sound one (want "") or one with flaw, which must fail the scenario want,
// and may fail those in also.
type flawCase[F any] struct {
	flaw F
	want string
	also []string
	note string // tells apart the cases that break one scenario
}

// checkSuite runs suite on the implementation of every case, each under a
// recorder of its own and all at once (a suite mostly waits, and on a
// broken implementation waits longest), then checks each case's report in
// a subtest.
func checkSuite[F any](t *testing.T, cases []flawCase[F], suite func(t *recorder, flaw F)) {
	reports := make([]suiteReport, len(cases))
	var wg sync.WaitGroup
	for i, tc := range cases {
		wg.Go(func() {
			root := newRecorder("")
			root.Run("", func(t *recorder) { suite(t, tc.flaw) })
			reports[i] = suiteReport{failures: root.failures, log: root.log}
		})
	}
	wg.Wait()
	for i, tc := range cases {
		name := "sound"
		if tc.want != "" {
			name = "breaks " + tc.want
		}
		t.Run(name+tc.note, func(t *testing.T) { checkReport(t, reports[i], tc.want, tc.also...) })
	}
}

// checkReport fails t unless rep shows exactly the failures wanted (none
// for a sound implementation). A broken implementation may also fail
// scenarios other than the one its flaw is for: those listed in also.
func checkReport(t *testing.T, rep suiteReport, want string, also ...string) {
	t.Helper()
	switch {
	case want == "" && len(rep.failures) > 0:
		t.Errorf("the suite failed a sound implementation: %v\n%s", rep.failures, strings.Join(rep.log, "\n"))
	case want != "" && !slices.Contains(rep.failures, want):
		t.Errorf("the suite did not fail %s; failed: %v\n%s", want, rep.failures, strings.Join(rep.log, "\n"))
	}
	for _, f := range rep.failures {
		if f != want && !slices.Contains(also, f) {
			t.Errorf("the suite also failed %s, which the flaw does not break:\n%s", f, strings.Join(rep.log, "\n"))
		}
	}
	if testing.Verbose() {
		for _, line := range rep.log {
			t.Log(line)
		}
	}
}

func TestRecorder(t *testing.T) {
	t.Parallel()
	root := newRecorder("")
	root.Run("", func(t *recorder) {
		t.Run("passes", func(t *recorder) {})
		t.Run("fails", func(t *recorder) { t.Errorf("one") })
		t.Run("fatal", func(t *recorder) {
			t.Fatalf("two")
			t.Errorf("not reached")
		})
		t.Run("skips", func(t *recorder) {
			t.Skipf("three")
			t.Errorf("not reached")
		})
		t.Run("parent", func(t *recorder) {
			cleaned := false
			t.Run("child", func(t *recorder) {
				t.Cleanup(func() { cleaned = true })
				t.Errorf("four")
			})
			if !cleaned {
				t.Errorf("the child's cleanup had not run when Run returned")
			}
		})
	})
	want := []string{"fails", "fatal", "parent/child"}
	if !slices.Equal(root.failures, want) {
		t.Errorf("failures %v; want %v", root.failures, want)
	}
	if log := strings.Join(root.log, "\n"); strings.Contains(log, "not reached") || !strings.Contains(log, "skipped: three") {
		t.Errorf("log:\n%s", log)
	}
}
