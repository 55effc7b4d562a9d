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
	if !now.Before(b.reset) {
		b.reset = now.Truncate(time.Hour).Add(time.Hour)
		b.used = 0
	}
	ok := b.used < b.limit
	if ok {
		b.used++
	}
	return window{limit: b.limit, remaining: b.limit - b.used, reset: b.reset}, ok
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
