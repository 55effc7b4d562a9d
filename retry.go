package blueclerk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/blueclerk/blueclerk-go/internal/backoff"
	"github.com/blueclerk/blueclerk-go/internal/header"
	"golang.org/x/oauth2"
)

// defaultBackoff spaces retries that no Retry-After times.
var defaultBackoff = backoff.Policy{Base: 500 * time.Millisecond, Cap: 30 * time.Second}

// call is one request's state across its attempts: what the caller asked
// for and what the attempts have learnt.
type call struct {
	opts     *callOptions                  // nil when the call has none
	write    bool                          // sent once unless it surely did not happen
	key      string                        // a write's Idempotency-Key
	getBody  func() (io.ReadCloser, error) // rewinds a write's body
	attempts int
	happened bool   // a write may have been carried out
	token    string // the access token last sent, cut out of what the answer echoes ("" when too short to tell from text)

	// Of the last answer.
	status    int
	header    http.Header
	requestID string
	rl        RateLimit
}

// send carries req through the retry layer: each attempt passes the
// limiter, gets a current token and goes down the base transport. It
// returns the response of a 2xx answer (and of a 3xx when redirect is set),
// whose body the caller closes with [drainClose]; for any other answer it
// reads and closes the body and returns [*Error], or [*RateLimitError] for a
// 429.
//
// Reads are retried on network errors, 408, 429, 500, 502, 503 and 504.
// Writes are sent by this loop only (their attempts carry no GetBody, so no
// transport underneath can resend them) and retried only when they surely
// did not happen (429, 503 with Retry-After, a failed dial) unless the
// client has WithIdempotentRetries. Once an attempt of a write may have
// happened, the call's error matches ErrOutcomeUnknown, whatever came after.
func (c *Client) send(req *http.Request, cl *call, redirect bool) (*http.Response, error) {
	defer cl.report()
	if c.plan == PlanFree {
		closeBody(req)
		return nil, errFreePlan
	}
	ctx := req.Context()
	var prev error // the last answer's error, kept when a retry is refused
	for n := 0; ; n++ {
		release, err := c.limiter.Acquire(ctx, c.rateLimitWait)
		if err != nil {
			if n == 0 {
				closeBody(req)
			}
			return nil, cl.outcome(c.refused(err, prev))
		}
		tok, err := tokenFor(ctx, c.ts)
		if err != nil {
			release(c.RateLimit()) // nothing was sent: the budget stands as last seen
			if n == 0 {
				closeBody(req)
			}
			return nil, cl.outcome(fmt.Errorf("blueclerk: %s %s: no token: %w", req.Method, req.URL.Path, err))
		}
		r, cancel, err := c.attempt(req, cl, tok, n)
		if err != nil {
			release(c.RateLimit())
			return nil, cl.outcome(err)
		}
		var start time.Time // for the debug line only
		if c.logger != nil {
			start = time.Now()
		}
		cl.attempts++
		resp, err := c.rt.RoundTrip(r)
		now := time.Now()
		var rl RateLimit
		if err == nil {
			if cancel != nil {
				resp.Body = &cancelBody{resp.Body, cancel}
			}
			rl = parseRateLimit(resp.Header, now)
			c.limits.observe(rl, now)
		} else {
			if cancel != nil {
				cancel()
			}
			err = cl.transportError(req, err)
		}
		cl.answered(resp, rl)
		release(rl)
		if err == nil && (resp.StatusCode < 200 || resp.StatusCode > 399 || resp.StatusCode > 299 && !redirect) {
			err = newError(req, resp, c.RateLimit(), cl)
			resp = nil
		}
		retry, wait, done := c.classify(ctx, cl, n, err, now)
		cl.happened = cl.happened || done
		final := !retry || n >= c.maxRetries || !beforeDeadline(ctx, now, wait)
		c.log(ctx, req, cl, n, err, rl, now.Sub(start), wait, final)
		if final {
			return resp, cl.outcome(err)
		}
		prev = err
		if err := backoff.Sleep(ctx, wait); err != nil {
			return nil, cl.outcome(err)
		}
	}
}

// attempt returns the request to send as attempt n, carrying the token:
// the first goes as req itself; a retry, or an attempt with a timeout, is a
// copy with its own header map and its body rewound. A write's requests
// never carry GetBody, so only this layer resends them. cancel, nil without
// a per-attempt timeout, ends the attempt's context once its answer is done
// with.
func (c *Client) attempt(req *http.Request, cl *call, tok *oauth2.Token, n int) (r *http.Request, cancel context.CancelFunc, err error) {
	auth := c.authorization(tok)
	cl.token = ""
	if len(tok.AccessToken) >= minToken {
		cl.token = tok.AccessToken
	}
	if n == 0 && c.attemptTimeout == 0 {
		req.Header["Authorization"] = auth
		return req, nil, nil
	}
	cp := *req
	cp.Header = maps.Clone(req.Header) // its own map; the values are shared, never modified
	cp.Header["Authorization"] = auth
	if n > 0 {
		getBody := req.GetBody
		if cl.write {
			getBody = cl.getBody
		}
		switch {
		case getBody != nil:
			if cp.Body, err = getBody(); err != nil {
				return nil, nil, fmt.Errorf("blueclerk: replaying the request body: %w", err)
			}
		case cl.write:
			cp.Body = emptyBody{}
		}
	}
	if t := c.attemptTimeout; t > 0 {
		var ctx context.Context
		ctx, cancel = context.WithTimeout(req.Context(), t)
		return cp.WithContext(ctx), cancel, nil
	}
	return &cp, nil, nil
}

// authValue is an Authorization header value and the token it is for.
type authValue struct {
	typ, access string
	value       []string
}

// authorization returns the Authorization header value for tok, reusing
// the last one built while the token stays the same.
func (c *Client) authorization(tok *oauth2.Token) []string {
	typ := tok.Type()
	if a := c.auth.Load(); a != nil && a.access == tok.AccessToken && a.typ == typ {
		return a.value
	}
	a := &authValue{typ: typ, access: tok.AccessToken, value: []string{typ + " " + tok.AccessToken}}
	c.auth.Store(a)
	return a.value
}

// minToken is the length below which an access token is not cut out of an
// answer: it could not be told from the text around it (a test's "t"), and
// no real token is so short.
const minToken = 8

// emptyBody is a body of no bytes that net/http cannot rewind.
type emptyBody struct{}

func (emptyBody) Read([]byte) (int, error) { return 0, io.EOF }
func (emptyBody) Close() error             { return nil }

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

// transportError describes an attempt that got no answer, without the
// token wherever a lower layer echoed it.
func (cl *call) transportError(req *http.Request, err error) error {
	msg := err.Error()
	if r := redact(msg, cl.token); r != msg {
		err = errors.New(r)
	}
	return &transportError{"blueclerk: " + req.Method + " " + redact(req.URL.Redacted(), cl.token), err}
}

// transportError is a failed attempt: the request may or may not have
// reached the server. Its chain holds the transport's error.
type transportError struct {
	where string
	err   error
}

func (e *transportError) Error() string { return e.where + ": " + e.err.Error() }
func (e *transportError) Unwrap() error { return e.err }

// classify says whether an attempt may be retried and after what wait, and
// whether, being a write, it may have been carried out. err is the
// attempt's transport error or the error of its non-2xx answer.
func (c *Client) classify(ctx context.Context, cl *call, n int, err error, now time.Time) (retry bool, wait time.Duration, happened bool) {
	if err == nil {
		return false, 0, false
	}
	var e *Error
	if !errors.As(err, &e) {
		switch {
		case dialFailed(err):
			retry = true
		default:
			retry, happened = !cl.write || c.idempotentRetries, cl.write
		}
		return retry && ctx.Err() == nil, c.backoff.Delay(n), happened
	}
	ra, hasRA := header.RetryAfter(cl.header, now)
	switch e.StatusCode {
	case http.StatusTooManyRequests:
		// newError has set the wait: the later of Retry-After and the
		// budget's reset.
		retry = true
		var rle *RateLimitError
		if errors.As(err, &rle) {
			ra, hasRA = rle.RetryAfter, true
		}
	case http.StatusServiceUnavailable:
		retry = !cl.write || c.idempotentRetries || hasRA
	case http.StatusRequestTimeout:
		retry = !cl.write || c.idempotentRetries
	case http.StatusInternalServerError, http.StatusBadGateway, http.StatusGatewayTimeout:
		retry, happened = !cl.write || c.idempotentRetries, cl.write
	default:
		return false, 0, false
	}
	switch {
	case !retry:
		return false, 0, happened
	case hasRA && ra > c.rateLimitWait:
		return false, ra, happened // longer than the caller will wait: answer now
	case hasRA && ra > 0:
		return true, ra, happened
	}
	return true, c.backoff.Delay(n), happened
}

// refused gives a limiter's refusal the client's plan, and the 429 answer
// that led to the refused retry, if one did.
func (c *Client) refused(err, prev error) error {
	e, ok := err.(*RateLimitError)
	if !ok {
		return err
	}
	cp := *e
	if cp.RateLimit.Plan == "" {
		cp.RateLimit.Plan = c.plan
	}
	var last *RateLimitError
	if cp.Err == nil && errors.As(prev, &last) {
		cp.Err = last.Err
	}
	return &cp
}

// answered records an attempt's answer: status, headers and budget, all
// zero when none came.
func (cl *call) answered(resp *http.Response, rl RateLimit) {
	if resp == nil {
		cl.status, cl.header, cl.requestID, cl.rl = 0, nil, "", RateLimit{}
		return
	}
	cl.status, cl.header, cl.rl = resp.StatusCode, resp.Header, rl
	cl.requestID = redact(header.Get(resp.Header, "X-Request-Id"), cl.token)
}

// outcome marks the error of a write that may have been carried out: it
// matches ErrOutcomeUnknown as well as what it matched before.
func (cl *call) outcome(err error) error {
	if err == nil || !cl.happened || errors.Is(err, ErrOutcomeUnknown) {
		return err
	}
	return &outcomeError{err}
}

// outcomeError is the final error of a write that may have happened.
type outcomeError struct{ err error }

func (e *outcomeError) Error() string {
	return ErrOutcomeUnknown.Error() + " (" + e.err.Error() + "); check before repeating it, with the same Idempotency-Key"
}
func (e *outcomeError) Unwrap() []error { return []error{ErrOutcomeUnknown, e.err} }

// report fills the caller's Response, if it asked for one.
func (cl *call) report() {
	if cl.opts == nil || cl.opts.resp == nil {
		return
	}
	*cl.opts.resp = Response{
		StatusCode:     cl.status,
		Header:         redactHeader(cl.header, cl.token),
		RequestID:      cl.requestID,
		IdempotencyKey: cl.key,
		RateLimit:      cl.rl,
		Attempts:       cl.attempts,
	}
}

// log writes one debug line for an attempt: never a header or a body, so
// never a token, a secret or a key.
func (c *Client) log(ctx context.Context, req *http.Request, cl *call, n int, err error, rl RateLimit, d, wait time.Duration, final bool) {
	l := c.logger
	if l == nil || !l.Enabled(ctx, slog.LevelDebug) {
		return
	}
	path := req.URL.EscapedPath()
	if req.URL.RawQuery != "" {
		path += "?" + req.URL.RawQuery
	}
	attrs := make([]slog.Attr, 0, 9)
	attrs = append(attrs,
		slog.String("method", req.Method),
		slog.String("path", redact(path, cl.token)),
		slog.Int("status", cl.status),
		slog.String("request_id", cl.requestID),
		slog.Int("attempt", n+1),
		slog.Duration("duration", d),
	)
	if !rl.Reset.IsZero() {
		attrs = append(attrs, slog.Int("remaining", rl.Remaining))
	}
	if err != nil && cl.status == 0 {
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	if !final {
		attrs = append(attrs, slog.Duration("retry_in", wait))
	}
	l.LogAttrs(ctx, slog.LevelDebug, "blueclerk: attempt", attrs...)
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

// tokenContexter is a token source whose wait for a token the caller's ctx
// can end, as the SDK's own sources are.
type tokenContexter interface {
	TokenContext(ctx context.Context) (*oauth2.Token, error)
}

// tokenFor gets a token from ts, bounded by ctx when ts allows it.
func tokenFor(ctx context.Context, ts oauth2.TokenSource) (*oauth2.Token, error) {
	if tc, ok := ts.(tokenContexter); ok {
		return tc.TokenContext(ctx)
	}
	tok, err := ts.Token()
	if err != nil {
		return nil, err
	}
	if tok == nil || tok.AccessToken == "" {
		return nil, errors.New("the token source returned no access token")
	}
	return tok, nil
}

// redactHeader returns h with every value holding token cut, copying h only
// when one does.
func redactHeader(h http.Header, token string) http.Header {
	if token == "" {
		return h
	}
	for _, vs := range h {
		for _, v := range vs {
			if strings.Contains(v, token) {
				cp := make(http.Header, len(h))
				for k, vs := range h {
					out := make([]string, len(vs))
					for i, v := range vs {
						out[i] = redact(v, token)
					}
					cp[k] = out
				}
				return cp
			}
		}
	}
	return h
}
