// Package budget keeps the account of a request quota that a server counts
// in fixed windows and reports on its responses (remaining requests and the
// window's reset time). Answers arrive out of order, some carry no report,
// and a misbehaving server may report anything: the account only ever errs
// towards fewer requests than the server would allow.
package budget

import "time"

const (
	// Length is the window the API counts requests in (one hour). It is used
	// to foresee the next window when the current one ends before any
	// response has reported it.
	Length = time.Hour
	// tolerance is how far two reported reset times may differ and still
	// name the same window: reset times given in seconds from now drift by
	// the network's delay.
	tolerance = Length / 4
	// maxAhead is the furthest reset time believed; a report beyond it is
	// taken for a server error and ignored, so that it cannot stop a client
	// for days.
	maxAhead = 24 * time.Hour
)

// Window is the account of the current window. The zero Window knows
// nothing; set Limit when the quota is known in advance. A Window is not
// safe for concurrent use.
type Window struct {
	Limit     int       // requests per window; 0 when unknown
	Remaining int       // requests left; meaningful only when Known
	Reset     time.Time // end of the current window; zero when not Known

	foreseen bool      // Reset was derived from the previous window, not reported
	floor    time.Time // with foreseen: reports resetting before it are from the previous window
}

// Known reports whether the window's remaining requests and end are known.
func (w *Window) Known() bool { return !w.Reset.IsZero() }

// Observe takes in a response's report of limit (0 if not reported),
// remaining requests and reset time. Within one window remaining only goes
// down, so the lowest report wins whatever order answers arrive in; a reset
// clearly later than the current one starts a new window. It returns false
// when the report was not used: it belongs to an earlier window, or its
// reset is in the past or implausibly far ahead.
func (w *Window) Observe(limit, remaining int, reset, now time.Time) bool {
	if !reset.After(now) || reset.After(now.Add(maxAhead)) {
		return false
	}
	switch {
	case !w.Known(),
		w.foreseen && reset.After(w.floor),
		!w.foreseen && reset.After(w.Reset.Add(tolerance)):
		w.Remaining, w.Reset, w.foreseen = remaining, reset, false
	case w.foreseen, reset.Before(w.Reset.Add(-tolerance)):
		return false
	default:
		w.Remaining = min(w.Remaining, remaining)
	}
	if limit > 0 {
		w.Limit = limit
	}
	if w.Limit > 0 {
		w.Remaining = min(w.Remaining, w.Limit)
	}
	return true
}

// Count takes one request as used without a report.
func (w *Window) Count() {
	if w.Known() && w.Remaining > 0 {
		w.Remaining--
	}
}

// Roll starts the next window once now has reached the current one's
// reset: with a known Limit its full quota is available until Length later,
// and otherwise nothing is known until the next report.
func (w *Window) Roll(now time.Time) {
	if !w.Known() || now.Before(w.Reset) {
		return
	}
	if w.Limit <= 0 {
		*w = Window{}
		return
	}
	w.floor = w.Reset.Add(tolerance)
	w.Reset = w.Reset.Add((now.Sub(w.Reset)/Length + 1) * Length)
	w.Remaining, w.foreseen = w.Limit, true
}
