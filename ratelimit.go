package blueclerk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/blueclerk/blueclerk-go/internal/backoff"
	"github.com/blueclerk/blueclerk-go/internal/budget"
	"github.com/blueclerk/blueclerk-go/internal/header"
	"golang.org/x/oauth2"
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
	// until a reset further away than maxWait or ctx's deadline, and ctx's
	// error when ctx ends first. After a nil error the caller sends the
	// request and then calls release exactly once with the budget the
	// response reported (the zero RateLimit when it reported none, or no
	// response came; the request is then assumed to have counted).
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
// in flight hold the rest of the budget, Acquire waits (bounded by ctx
// only) for their answers to tell whether any is left. When the budget is
// spent, Acquire waits for the reset if that is within maxWait and ctx's
// deadline, and otherwise fails at once with [*RateLimitError]. It does not
// spread a known budget over the hour: the server counts a fixed window,
// where a request sent early costs the same as one sent late, so pacing
// would only slow callers down.
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
			// whether any is left.
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
		var err error
		if changed != nil {
			select {
			case <-changed:
			case <-ctx.Done():
				err = ctx.Err()
			}
		} else {
			err = backoff.Sleep(ctx, wait)
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

// defaultBackoff spaces retries that no Retry-After times.
var defaultBackoff = backoff.Policy{Base: 500 * time.Millisecond, Cap: 30 * time.Second}

// transport builds the chain every request passes: retries outermost; on
// each attempt the limiter, then a current token, then base.
func (c *Client) transport(base http.RoundTripper, ts oauth2.TokenSource) http.RoundTripper {
	if c.limiter == nil {
		c.limiter = NewLimiter(c.plan)
	}
	c.limits.w.Limit = c.plan.HourlyLimit() // until answers say otherwise
	return &retryTransport{
		c:       c,
		next:    &oauth2.Transport{Source: tokenSource{ts}, Base: base},
		backoff: defaultBackoff,
	}
}

// retryTransport sends each attempt through the client's limiter and next.
// It retries reads on network errors, 408, 429, 500, 502, 503 and 504, and
// writes only when they surely did not happen (429, 503 with Retry-After, a
// failed dial) unless the client has WithIdempotentRetries. A write whose
// answer was lost fails with an error matching ErrOutcomeUnknown.
type retryTransport struct {
	c       *Client
	next    http.RoundTripper
	backoff backoff.Policy
}

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	c := t.c
	if c.plan == PlanFree {
		closeBody(req)
		return nil, errFreePlan
	}
	ctx := req.Context()
	write := !repeatable(req.Method)
	happened := false // whether a write may have been carried out
	for n := 0; ; n++ {
		release, err := c.limiter.Acquire(ctx, c.rateLimitWait)
		if err != nil {
			if n == 0 {
				closeBody(req)
			}
			return nil, outcome(c.refused(err), happened)
		}
		r, cancel, err := t.attempt(req, n)
		if err != nil {
			release(c.RateLimit())
			return nil, outcome(err, happened)
		}
		resp, err := t.next.RoundTrip(r)
		if cancel != nil {
			if err != nil {
				cancel()
			} else {
				resp.Body = &cancelBody{resp.Body, cancel}
			}
		}
		now := time.Now()
		var rl RateLimit
		if err == nil {
			rl = parseRateLimit(resp.Header, now)
			c.limits.observe(rl, now)
		}
		if noToken(err) {
			release(c.RateLimit()) // nothing was sent: the budget stands as last seen
		} else {
			release(rl)
		}
		retry, wait, done := t.classify(req, write, n, resp, err, rl, now)
		happened = happened || done
		if !retry || n >= c.maxRetries || !replayable(req) || !beforeDeadline(ctx, now, wait) {
			t.log(ctx, req, n, resp, err, 0)
			return resp, outcome(err, happened)
		}
		t.log(ctx, req, n, resp, err, wait)
		if resp != nil {
			drainClose(resp.Body)
		}
		if err := backoff.Sleep(ctx, wait); err != nil {
			return nil, outcome(err, happened)
		}
	}
}

// attempt returns the request to send as attempt n: req itself, or a copy
// with the body replayed and the client's per-attempt timeout. cancel, nil
// without a timeout, ends the attempt's context once its answer is done with. (A
// write goes down with GetBody, so that net/http may resend it when nothing
// was written; it resends nothing else, because newRequest keeps the
// Idempotency-Key out of its sight.)
func (t *retryTransport) attempt(req *http.Request, n int) (r *http.Request, cancel context.CancelFunc, err error) {
	timeout := t.c.attemptTimeout
	if (n == 0 || req.GetBody == nil) && timeout == 0 {
		return req, nil, nil
	}
	cp := *req
	if n > 0 && req.GetBody != nil {
		if cp.Body, err = req.GetBody(); err != nil {
			return nil, nil, fmt.Errorf("blueclerk: replaying the request body: %w", err)
		}
	}
	if timeout > 0 {
		var ctx context.Context
		ctx, cancel = context.WithTimeout(req.Context(), timeout)
		return cp.WithContext(ctx), cancel, nil
	}
	return &cp, nil, nil
}

// cancelBody ends an attempt's context when its body is closed.
type cancelBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// classify says whether an attempt may be retried and after what wait, and
// whether, being a write, it may have been carried out.
func (t *retryTransport) classify(req *http.Request, write bool, n int, resp *http.Response, err error, rl RateLimit, now time.Time) (retry bool, wait time.Duration, happened bool) {
	c := t.c
	if err != nil {
		switch {
		case noToken(err):
			return false, 0, false // nothing was sent; asking again will not help
		case dialFailed(err):
			retry = true
		default:
			retry, happened = !write || c.idempotentRetries, write
		}
		return retry && req.Context().Err() == nil, t.backoff.Delay(n), happened
	}
	ra, hasRA := header.RetryAfter(resp.Header, now)
	switch resp.StatusCode {
	case http.StatusTooManyRequests:
		retry = true
		if !hasRA && !rl.Reset.IsZero() {
			ra, hasRA = max(rl.Reset.Sub(now), 0), true
		}
	case http.StatusServiceUnavailable:
		retry = !write || c.idempotentRetries || hasRA
	case http.StatusRequestTimeout:
		retry = !write || c.idempotentRetries
	case http.StatusInternalServerError, http.StatusBadGateway, http.StatusGatewayTimeout:
		retry, happened = !write || c.idempotentRetries, write
	default:
		return false, 0, false
	}
	switch {
	case hasRA && ra > c.rateLimitWait:
		return false, 0, happened // longer than the caller will wait: answer now
	case hasRA && ra > 0:
		return retry, ra, happened
	}
	return retry, t.backoff.Delay(n), happened
}

// log writes one debug line for an attempt: never a header, so never a
// token.
func (t *retryTransport) log(ctx context.Context, req *http.Request, n int, resp *http.Response, err error, wait time.Duration) {
	l := t.c.logger
	if l == nil || !l.Enabled(ctx, slog.LevelDebug) {
		return
	}
	attrs := []slog.Attr{
		slog.String("method", req.Method),
		slog.String("path", req.URL.Path),
		slog.Int("attempt", n+1),
	}
	switch {
	case resp != nil:
		attrs = append(attrs, slog.Int("status", resp.StatusCode))
	case noToken(err):
		attrs = append(attrs, slog.String("error", "no token from the token source"))
	default:
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	attrs = append(attrs, slog.Duration("wait", wait))
	l.LogAttrs(ctx, slog.LevelDebug, "blueclerk: attempt", attrs...)
}

// refused gives a limiter's refusal the client's plan.
func (c *Client) refused(err error) error {
	if e, ok := err.(*RateLimitError); ok && e.RateLimit.Plan == "" && c.plan != "" {
		cp := *e
		cp.RateLimit.Plan = c.plan
		return &cp
	}
	return err
}

// outcome marks the error of a write that may have been carried out.
func outcome(err error, happened bool) error {
	if err == nil || !happened {
		return err
	}
	return fmt.Errorf("%w (%w)", ErrOutcomeUnknown, err)
}

// repeatable reports whether a method is idempotent (RFC 9110 §9.2.2), so
// that sending it twice does no harm.
func repeatable(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace, http.MethodPut, http.MethodDelete:
		return true
	}
	return false
}

// replayable reports whether req's body, if any, can be sent again.
func replayable(req *http.Request) bool {
	return req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
}

// dialFailed reports whether err is a failure to reach the server (refused
// connection, unknown host, unreachable proxy): the request was surely not
// sent.
func dialFailed(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && (op.Op == "dial" || op.Op == "proxyconnect") {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns)
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
}

// tokenSource marks the failures of a token source, so that they are told
// apart from network errors: nothing was sent, and they are not retried.
type tokenSource struct{ src oauth2.TokenSource }

func (s tokenSource) Token() (*oauth2.Token, error) {
	tok, err := s.src.Token()
	if err != nil {
		return nil, &noTokenError{err}
	}
	return tok, nil
}

// noToken reports whether err is a token source's failure.
func noToken(err error) bool {
	if err == nil {
		return false
	}
	var te *noTokenError
	return errors.As(err, &te)
}

// noTokenError is a token source's failure; its text and chain are the
// source's own.
type noTokenError struct{ err error }

func (e *noTokenError) Error() string { return e.err.Error() }
func (e *noTokenError) Unwrap() error { return e.err }
