package blueclerktest

import (
	"net/http"
	"strconv"
	"sync"
	"time"
)

// budget is a company's hourly request budget: a fixed window from one full
// hour of the server's clock to the next.
type budget struct {
	mu    sync.Mutex
	limit int
	reset time.Time // end of the current window
	used  int
}

// window is the budget as an answer reports it.
type window struct {
	limit, remaining int
	reset            time.Time
}

// take counts one request at now. It reports false, counting nothing, when
// the window's budget is spent.
func (b *budget) take(now time.Time) (window, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.roll(now)
	ok := b.used < b.limit
	if ok {
		b.used++
	}
	return b.window(), ok
}

// window reports the current window. The caller holds b.mu.
func (b *budget) window() window {
	return window{limit: b.limit, remaining: b.limit - b.used, reset: b.reset}
}

// roll starts a new window when now is past the current one. The caller
// holds b.mu.
func (b *budget) roll(now time.Time) {
	if !now.Before(b.reset) {
		b.reset = now.Truncate(time.Hour).Add(time.Hour)
		b.used = 0
	}
}

// setHeaders reports the budget in X-RateLimit-Limit, X-RateLimit-Remaining
// and X-RateLimit-Reset (Unix seconds).
func (win window) setHeaders(h http.Header) {
	h.Set("X-RateLimit-Limit", strconv.Itoa(win.limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(win.remaining))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(win.reset.Unix(), 10))
}

// seconds renders d as whole seconds, rounded up, for Retry-After.
func seconds(d time.Duration) string {
	if d <= 0 {
		return "0"
	}
	return strconv.FormatInt(int64((d+time.Second-1)/time.Second), 10)
}

// current returns the budget at now without counting a request.
func (b *budget) current(now time.Time) window {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.roll(now)
	return b.window()
}

// setRemaining leaves n requests (at least 0, at most the limit) in the
// window current at now, and returns the budget as it then stands.
func (b *budget) setRemaining(n int, now time.Time) window {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.roll(now)
	b.used = b.limit - min(max(n, 0), b.limit)
	return b.window()
}

// SetRemaining leaves n requests in the company's current hourly window
// (clamped to between 0 and the hourly limit), as if the others had been
// spent: with 0 the next API request gets 429 until the window renews on the
// hour.
func (s *Server) SetRemaining(n int) {
	s.company.budget.setRemaining(n, s.now())
}
