package blueclerk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/blueclerk/blueclerk-go/internal/backoff"
	"github.com/blueclerk/blueclerk-go/internal/header"
	"golang.org/x/oauth2"
)

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
