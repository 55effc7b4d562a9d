package budget

import (
	"testing"
	"time"
)

func TestWindow(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	reset := t0.Add(Length)
	var w Window
	if w.Known() {
		t.Fatal("zero Window is Known")
	}
	w.Count() // nothing to count against
	if !w.Observe(500, 400, reset, t0) || w.Remaining != 400 || w.Limit != 500 || !w.Reset.Equal(reset) {
		t.Fatalf("first report not taken: %+v", w)
	}
	// Answers out of order: the lowest wins within the window.
	w.Observe(500, 390, reset, t0)
	w.Observe(500, 395, reset, t0)
	if w.Remaining != 390 {
		t.Errorf("Remaining = %d, want 390 (the lowest report)", w.Remaining)
	}
	// Reset given in seconds from now drifts a little: same window.
	w.Observe(500, 399, reset.Add(2*time.Second), t0)
	if w.Remaining != 390 || !w.Reset.Equal(reset) {
		t.Errorf("a drifted reset changed the window: %+v", w)
	}
	w.Count()
	if w.Remaining != 389 {
		t.Errorf("Count: Remaining = %d, want 389", w.Remaining)
	}
	// Unusable reports.
	for _, r := range []time.Time{t0.Add(-time.Second), t0, t0.Add(48 * time.Hour), reset.Add(-Length)} {
		if w.Observe(500, 500, r, t0) {
			t.Errorf("report resetting at %v taken", r)
		}
	}
	if w.Remaining != 389 {
		t.Errorf("Remaining = %d after unusable reports", w.Remaining)
	}
	// A later window replaces the account, even with more remaining.
	if !w.Observe(0, 499, reset.Add(Length), t0.Add(Length)) || w.Remaining != 499 || w.Limit != 500 {
		t.Errorf("next window not taken: %+v", w)
	}
}

func TestWindowRoll(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	reset := t0.Add(10 * time.Minute)
	w := Window{Limit: 100}
	w.Observe(0, 0, reset, t0)
	w.Roll(reset.Add(-time.Nanosecond))
	if w.Remaining != 0 {
		t.Fatalf("rolled early: %+v", w)
	}
	w.Roll(reset)
	if w.Remaining != 100 || !w.Reset.Equal(reset.Add(Length)) {
		t.Fatalf("after the reset: %+v, want the full 100 until %v", w, reset.Add(Length))
	}
	// Straggling answers from the previous window count one each...
	if w.Observe(100, 0, reset, reset) || w.Observe(100, 0, reset.Add(time.Minute), reset) {
		t.Error("a report of the previous window was taken")
	}
	// ...and the first report of the new window replaces the foreseen one.
	if !w.Observe(100, 97, reset.Add(Length-time.Second), reset.Add(time.Second)) || w.Remaining != 97 {
		t.Errorf("new window report: %+v", w)
	}
	// Many windows later.
	last := w.Reset // reset + Length - 1s
	w.Roll(last.Add(4*Length + time.Minute))
	if want := last.Add(5 * Length); !w.Reset.Equal(want) || w.Remaining != 100 {
		t.Errorf("late roll: %+v, want reset %v", w, want)
	}
	// Without a limit, a rolled window is unknown.
	u := Window{}
	u.Observe(0, 5, reset, t0)
	u.Roll(reset)
	if u.Known() {
		t.Errorf("window without a limit still known after its reset: %+v", u)
	}
}

func TestWindowRemainingAboveLimit(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	w := Window{Limit: 100}
	w.Observe(0, 1_000_000, t0.Add(time.Minute), t0)
	if w.Remaining != 100 {
		t.Errorf("Remaining = %d, want it capped at the limit", w.Remaining)
	}
}
