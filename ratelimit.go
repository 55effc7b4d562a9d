package blueclerk

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/oauth2"
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

// RateLimit is a company's hourly request budget as a response reported it.
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
	// until a reset further away than maxWait or ctx's deadline, and ctx's
	// error when ctx ends first. After a nil error the caller sends the
	// request and then calls release exactly once with the budget the
	// response reported (the zero RateLimit when it reported none, or no
	// response came; the request is then assumed to have counted).
	Acquire(ctx context.Context, maxWait time.Duration) (release func(RateLimit), err error)
}

// limitState is the Client's view of its budget.
type limitState struct {
	mu   sync.Mutex
	last RateLimit
}

// RateLimit returns the budget the last response reported, or the zero
// RateLimit before any did. It is safe to call concurrently with requests.
func (c *Client) RateLimit() RateLimit {
	c.limits.mu.Lock()
	defer c.limits.mu.Unlock()
	return c.limits.last
}

// transport builds the chain every request passes: the caller's or the
// default transport underneath, a current token on each attempt.
func (c *Client) transport(base http.RoundTripper, ts oauth2.TokenSource) http.RoundTripper {
	return &oauth2.Transport{Source: ts, Base: base}
}

// parseRateLimit reads the budget headers of a response. The zero RateLimit
// means the response reported none.
func parseRateLimit(h http.Header, now time.Time) RateLimit {
	limit, err1 := strconv.Atoi(h.Get("X-RateLimit-Limit"))
	remaining, err2 := strconv.Atoi(h.Get("X-RateLimit-Remaining"))
	reset, err3 := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return RateLimit{}
	}
	return RateLimit{Limit: limit, Remaining: remaining, Reset: time.Unix(reset, 0)}
}
