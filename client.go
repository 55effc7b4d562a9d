// Package blueclerk is a client for the BlueClerk Public API v1: leads,
// tickets, jobs, properties, estimates, invoices and contacts over REST,
// OAuth 2.0 with PKCE, signed webhooks and per-plan rate limits.
//
// A [Client] is built from an [oauth2.TokenSource] (see [NewAuthSession],
// [LoopbackLogin], [PersistentTokenSource] and
// [ClientCredentialsTokenSource]) and reaches each endpoint group through a
// service field:
//
//	c, err := blueclerk.NewClient(ts, blueclerk.WithPlan(blueclerk.PlanPro))
//	tickets, err := c.Tickets.List(ctx)
//
// Every call takes a context, keeps within the company's hourly budget,
// retries what is safe to retry, and returns errors that match the package's
// sentinels ([ErrUnauthorized], [ErrRateLimited], …) with [errors.Is].
// Writes are never repeated unless they surely did not happen, or
// [WithIdempotentRetries] says the server honours Idempotency-Key.
//
// The package starts no goroutines: a Client needs no Close. Package
// blueclerktest provides an in-memory BlueClerk server for tests.
package blueclerk

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"time"

	"github.com/blueclerk/blueclerk-go/internal/header"
	"github.com/blueclerk/blueclerk-go/internal/jsonstream"
	"golang.org/x/oauth2"
)

// DefaultBaseURL is the API host used unless [WithBaseURL] names another.
const DefaultBaseURL = "https://api.blueclerk.com"

// DocsURL is the public API documentation, where GET /api redirects.
const DocsURL = "https://github.com/blueclerk/api-docs"

// Version is this module's version, sent in the User-Agent.
const Version = "0.1.0"

const (
	apiPrefix = "/api/v1"
	// maxErrorBody bounds how much of an error answer is read.
	maxErrorBody = 64 << 10
	// maxObjectBody bounds a single created object's answer.
	maxObjectBody = 8 << 20
	// maxDrain is how much of an unread body is read before closing it, so
	// that the connection can be reused; larger bodies are abandoned.
	maxDrain = 4 << 10
)

// ErrMalformedResponse is returned when an answer cannot be understood: a
// body that is not JSON, is truncated, is of another content type, or lacks
// the expected list key. For a write it means the write happened but its
// result could not be read.
var ErrMalformedResponse = errors.New("blueclerk: malformed response")

// Client is a BlueClerk API client. Its services share one transport chain
// and one view of the company's rate budget. A Client is safe for concurrent
// use by multiple goroutines and needs no Close.
type Client struct {
	Leads      *LeadsService
	Tickets    *TicketsService
	Jobs       *JobsService
	Properties *PropertiesService
	Estimates  *EstimatesService
	Invoices   *InvoicesService
	Contacts   *ContactsService

	base              *url.URL
	hc                *http.Client
	userAgent         string
	logger            *slog.Logger
	plan              Plan
	maxRetries        int
	rateLimitWait     time.Duration
	idempotentRetries bool
	attemptTimeout    time.Duration
	limiter           Limiter
	limits            limitState
}

// service is what every endpoint group holds: the client that sends for it.
type service struct{ client *Client }

// Option configures a [Client] in [NewClient].
type Option func(*Client) error

// WithBaseURL sets the API host, such as a [blueclerktest] server's URL. It
// must be https, or http for a loopback host (127.0.0.1, ::1, localhost), so
// that a token never crosses a network in clear text.
func WithBaseURL(base string) Option {
	return func(c *Client) error {
		u, err := parseBaseURL(base)
		if err != nil {
			return err
		}
		c.base = u
		return nil
	}
}

// WithHTTPClient sets the HTTP client whose Transport carries the requests
// and whose Timeout bounds each attempt (bound a whole call, retries and
// waits included, with the call's context). The SDK wraps the Transport (nil
// means [http.DefaultTransport]) with its token, budget and retry layers and
// never follows redirects; the given client is not modified.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) error {
		if hc == nil {
			return errors.New("blueclerk: WithHTTPClient: nil *http.Client")
		}
		c.hc = hc
		return nil
	}
}

// WithPlan tells the client the company's plan, so that it paces requests
// within [Plan.HourlyLimit] before any answer has reported the budget. With
// [PlanFree] every call fails with [ErrPlanRequired] without being sent.
func WithPlan(p Plan) Option {
	return func(c *Client) error {
		switch p {
		case PlanFree, PlanStarter, PlanPro, PlanHigh:
		default:
			return fmt.Errorf("blueclerk: WithPlan: unknown plan %q (want FREE, STARTER, PRO or HIGH)", string(p))
		}
		c.plan = p
		return nil
	}
}

// WithMaxRetries sets how many times a failed attempt is retried (default
// 3; 0 disables retries). Which failures are retried is described at
// [WithIdempotentRetries].
func WithMaxRetries(n int) Option {
	return func(c *Client) error {
		if n < 0 {
			return fmt.Errorf("blueclerk: WithMaxRetries: %d is negative", n)
		}
		c.maxRetries = n
		return nil
	}
}

// WithRateLimitWait caps how long a call waits for budget or for a
// Retry-After (default 1 minute). A call that would wait longer fails at once
// with [*RateLimitError] carrying the reset time; 0 never waits.
func WithRateLimitWait(d time.Duration) Option {
	return func(c *Client) error {
		if d < 0 {
			return fmt.Errorf("blueclerk: WithRateLimitWait: %v is negative", d)
		}
		c.rateLimitWait = d
		return nil
	}
}

// WithLimiter replaces the in-process budget limiter with l, such as one
// shared by several processes through Redis.
func WithLimiter(l Limiter) Option {
	return func(c *Client) error {
		if l == nil {
			return errors.New("blueclerk: WithLimiter: nil Limiter")
		}
		c.limiter = l
		return nil
	}
}

// WithUserAgent puts product (such as "acme-sync/1.2") in front of the
// SDK's own User-Agent, which is always sent.
func WithUserAgent(product string) Option {
	return func(c *Client) error {
		if strings.ContainsAny(product, "\r\n") {
			return errors.New("blueclerk: WithUserAgent: line break in user agent")
		}
		c.userAgent = strings.TrimSpace(product + " " + defaultUserAgent())
		return nil
	}
}

// WithLogger logs one debug line per attempt (method, path, status, attempt,
// wait) to l. Tokens and the Authorization header are never logged.
func WithLogger(l *slog.Logger) Option {
	return func(c *Client) error {
		c.logger = l
		return nil
	}
}

// WithIdempotentRetries(true) declares that the server honours
// Idempotency-Key, so that a write whose answer was lost, or that was answered
// 500, 502 or 504, is retried with the same key. By default a write is
// retried only when it surely did not happen (429, 503 with Retry-After, a
// failed dial) and otherwise fails with [ErrOutcomeUnknown]. Reads are always
// retried on network errors, 408, 429, 500, 502, 503 and 504.
func WithIdempotentRetries(on bool) Option {
	return func(c *Client) error {
		c.idempotentRetries = on
		return nil
	}
}

// NewClient returns a client that authorizes every request with a token from
// ts. It returns an error for a nil ts or an invalid option.
func NewClient(ts oauth2.TokenSource, opts ...Option) (*Client, error) {
	if ts == nil {
		return nil, errors.New("blueclerk: NewClient: nil token source (see NewAuthSession, LoopbackLogin or ClientCredentialsTokenSource)")
	}
	c := &Client{
		maxRetries:    3,
		rateLimitWait: time.Minute,
		userAgent:     defaultUserAgent(),
	}
	c.base, _ = url.Parse(DefaultBaseURL)
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(c); err != nil {
			return nil, err
		}
	}
	hc := http.Client{}
	if c.hc != nil {
		hc = *c.hc
	}
	base := hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	// The retry layer applies the timeout to each attempt; on the
	// http.Client it would cover the retries and hide, behind a text-only
	// error, whether a write may have happened.
	c.attemptTimeout, hc.Timeout = hc.Timeout, 0
	hc.Transport = c.transport(base, ts)
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	c.hc = &hc
	s := &service{client: c}
	c.Leads = (*LeadsService)(s)
	c.Tickets = (*TicketsService)(s)
	c.Jobs = (*JobsService)(s)
	c.Properties = (*PropertiesService)(s)
	c.Estimates = (*EstimatesService)(s)
	c.Invoices = (*InvoicesService)(s)
	c.Contacts = (*ContactsService)(s)
	return c, nil
}

func defaultUserAgent() string {
	return "blueclerk-go/" + Version + " go/" + strings.TrimPrefix(runtime.Version(), "go")
}

// parseBaseURL accepts https URLs, and http ones for loopback hosts.
func parseBaseURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("blueclerk: base URL: %w", err)
	}
	switch {
	case u.Host == "":
		return nil, fmt.Errorf("blueclerk: base URL %q has no host", s)
	case u.User != nil || u.RawQuery != "" || u.Fragment != "":
		return nil, fmt.Errorf("blueclerk: base URL %q must not carry credentials, a query or a fragment", s)
	case safeScheme(u):
	case u.Scheme == "http":
		return nil, fmt.Errorf("blueclerk: base URL %q: plain http is allowed only for loopback hosts; use https", s)
	default:
		return nil, fmt.Errorf("blueclerk: base URL %q: scheme must be https", s)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

// safeScheme reports whether a token may travel to u: over https, or over
// plain http to a loopback host, where it never crosses a network.
func safeScheme(u *url.URL) bool {
	return u.Scheme == "https" || u.Scheme == "http" && isLoopback(u.Hostname())
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// url returns the absolute URL of an API path such as "/api/v1/leads".
func (c *Client) url(path string) string {
	u := *c.base
	u.Path += path
	return u.String()
}

// newRequest builds a request to the API. A non-nil body is sent as JSON;
// a POST gets a fresh Idempotency-Key, which every retry of it reuses.
func (c *Client) newRequest(ctx context.Context, method, rawURL string, body any) (*http.Request, error) {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("%w: encoding the request body: %v", ErrInvalidRequest, err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, rawURL, r)
	if err != nil {
		return nil, fmt.Errorf("blueclerk: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if method == http.MethodPost {
		req.Header[idempotencyKey] = []string{rand.Text()}
	}
	return req, nil
}

// idempotencyKey is where a write's Idempotency-Key is stored: in lower case,
// which the server reads as the same header, so that net/http does not count
// the request as replayable and silently resend a write whose answer was
// lost. Only the retry layer decides whether a write is repeated.
const idempotencyKey = "idempotency-key"

// do sends req through the transport chain. It returns the response of a
// 2xx answer, whose body the caller closes with [drainClose]; for any other
// answer it reads and closes the body and returns [*Error], or
// [*RateLimitError] for 429.
func (c *Client) do(req *http.Request) (*http.Response, error) {
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		return resp, nil
	}
	return nil, newError(req, resp, c.RateLimit())
}

// newError builds the error for a non-2xx answer and closes its body. rl is
// the client's budget, which the transport has already updated from this
// answer's headers.
func newError(req *http.Request, resp *http.Response, rl RateLimit) error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	drainClose(resp.Body)
	u := *req.URL
	u.RawQuery, u.User = "", nil
	now := time.Now()
	e := &Error{
		StatusCode: resp.StatusCode,
		Method:     req.Method,
		URL:        u.String(),
		RequestID:  resp.Header.Get("X-Request-Id"),
		Body:       body,
		RateLimit:  rl,
	}
	e.Code, e.Message = errorBody(body)
	if code, desc := header.BearerError(resp.Header); code != "" {
		if e.Code == "" {
			e.Code = code
		}
		if e.Message == "" {
			e.Message = desc
		}
	}
	if d, ok := header.RetryAfter(resp.Header, now); ok {
		e.RetryAfter = d
	}
	if resp.StatusCode != http.StatusTooManyRequests {
		return e
	}
	rle := &RateLimitError{RateLimit: rl, RetryAfter: e.RetryAfter, Err: e}
	if rle.RetryAfter == 0 && !rl.Reset.IsZero() {
		rle.RetryAfter = max(rl.Reset.Sub(now), 0)
	}
	return rle
}

// errorBody reads the code and message of an error body in any of its
// shapes: {"error": "code", "message": "text"} (or "error_description"), and
// {"error": {"code": "code", "message": "text"}}. Anything else, such as an
// HTML page, gives empty strings.
func errorBody(b []byte) (code, message string) {
	var v struct {
		Error            json.RawMessage `json:"error"`
		Message          string          `json:"message"`
		ErrorDescription string          `json:"error_description"`
	}
	if json.Unmarshal(b, &v) != nil {
		return "", ""
	}
	message = v.Message
	if message == "" {
		message = v.ErrorDescription
	}
	if json.Unmarshal(v.Error, &code) == nil {
		return code, message
	}
	var nested struct{ Code, Message string }
	if json.Unmarshal(v.Error, &nested) == nil {
		code = nested.Code
		if nested.Message != "" {
			message = nested.Message
		}
	}
	return code, message
}

// drainClose reads what is left of a small body, so that its connection can
// be reused, and closes it.
func drainClose(body io.ReadCloser) {
	_, _ = io.CopyN(io.Discard, body, maxDrain)
	_ = body.Close()
}

// malformed wraps a decoding failure of resp's body.
func malformed(req *http.Request, err error) error {
	return fmt.Errorf("%w: %s %s: %v", ErrMalformedResponse, req.Method, req.URL.Path, err)
}

// checkJSON rejects a 2xx answer whose declared content type is not JSON,
// such as an HTML page from a proxy.
func checkJSON(req *http.Request, resp *http.Response) error {
	ct := resp.Header.Get("Content-Type")
	if ct == "" {
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json")) {
		return nil
	}
	return malformed(req, fmt.Errorf("content type %q, want application/json", ct))
}

// pages yields the response of each page of a list, following Link
// rel="next" within the API's host. The consumer must close each body.
func (c *Client) pages(ctx context.Context, path string) iter.Seq2[*http.Response, error] {
	return func(yield func(*http.Response, error) bool) {
		next := c.url(path)
		seen := make(map[string]bool)
		for next != "" {
			if seen[next] {
				yield(nil, fmt.Errorf("%w: GET %s: Link rel=\"next\" loops back to %s", ErrMalformedResponse, path, next))
				return
			}
			seen[next] = true
			req, err := c.newRequest(ctx, http.MethodGet, next, nil)
			if err != nil {
				yield(nil, err)
				return
			}
			resp, err := c.do(req)
			if err == nil {
				err = checkJSON(req, resp)
				if err != nil {
					drainClose(resp.Body)
				}
			}
			if err != nil {
				yield(nil, err)
				return
			}
			// The caller's transport may leave resp.Request unset, and the
			// transport's copy carries the token: keep the request we built.
			resp.Request = req
			next, err = c.nextPage(req.URL, resp.Header)
			if err != nil {
				drainClose(resp.Body)
				yield(nil, err)
				return
			}
			if !yield(resp, nil) {
				return
			}
		}
	}
}

// nextPage resolves the Link rel="next" of a page, refusing any URL off the
// API's host: the token must not be sent elsewhere.
func (c *Client) nextPage(cur *url.URL, h http.Header) (string, error) {
	link := header.NextLink(h)
	if link == "" {
		return "", nil
	}
	u, err := cur.Parse(link)
	if err != nil {
		return "", fmt.Errorf("%w: GET %s: bad Link rel=\"next\": %v", ErrMalformedResponse, cur.Path, err)
	}
	if u.Scheme != c.base.Scheme || u.Host != c.base.Host {
		return "", fmt.Errorf("%w: GET %s: Link rel=\"next\" leaves the API host (%s); not followed", ErrMalformedResponse, cur.Path, u.Redacted())
	}
	u.Fragment = ""
	return u.String(), nil
}

// list reads every element of the array under key, across pages.
func list[T any](ctx context.Context, c *Client, path, key string) ([]*T, error) {
	var out []*T
	for v, err := range all[T](ctx, c, path, key) {
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if out == nil {
		out = []*T{}
	}
	return out, nil
}

// all yields the elements of the array under key one at a time, across
// pages. Stopping early drains a little of the body and closes it.
func all[T any](ctx context.Context, c *Client, path, key string) iter.Seq2[*T, error] {
	return func(yield func(*T, error) bool) {
		for resp, err := range c.pages(ctx, path) {
			if err != nil {
				yield(nil, err)
				return
			}
			if !yieldArray(resp, key, yield) {
				return
			}
		}
	}
}

// yieldArray streams one page's array into yield and closes its body. It
// reports whether to go on to the next page.
func yieldArray[T any](resp *http.Response, key string, yield func(*T, error) bool) bool {
	defer drainClose(resp.Body)
	body := &bodyReader{r: resp.Body}
	// One record may be as large as a created object's answer.
	arr, err := jsonstream.Open(body, key, maxObjectBody)
	if err != nil {
		yield(nil, body.failure(resp.Request, err))
		return false
	}
	for {
		v := new(T)
		ok, err := arr.Next(v)
		if err != nil {
			yield(nil, body.failure(resp.Request, err))
			return false
		}
		if !ok {
			return true
		}
		if !yield(v, nil) {
			return false
		}
	}
}

// bodyReader remembers the first read error other than io.EOF, so that a
// connection broken mid-answer is not reported as a malformed answer.
type bodyReader struct {
	r   io.Reader
	err error
}

func (b *bodyReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && err != io.EOF && b.err == nil {
		b.err = err
	}
	return n, err
}

// failure describes a decoding error: the read error behind it if there was
// one, else a malformed answer.
func (b *bodyReader) failure(req *http.Request, err error) error {
	if b.err != nil {
		return fmt.Errorf("blueclerk: %s %s: reading the answer: %w", req.Method, req.URL.Path, b.err)
	}
	return malformed(req, err)
}

// validator is implemented by every Create params type.
type validator interface{ validate() error }

// create validates p, POSTs it to path and decodes the created object, bare
// or wrapped under key.
func create[T any, P validator](ctx context.Context, c *Client, path, key string, p P) (*T, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	req, err := c.newRequest(ctx, http.MethodPost, c.url(path), p)
	if err != nil {
		return nil, err
	}
	resp, err := c.do(req)
	if err != nil {
		return nil, err
	}
	defer drainClose(resp.Body)
	if err := checkJSON(req, resp); err != nil {
		return nil, err
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxObjectBody))
	if err != nil {
		return nil, malformed(req, fmt.Errorf("reading the created object: %w", err))
	}
	v, err := decodeObject[T](body, key)
	if err != nil {
		return nil, malformed(req, err)
	}
	return v, nil
}

// decodeObject decodes a JSON object that is either T itself or
// {key: T}.
func decodeObject[T any](body []byte, key string) (*T, error) {
	var wrapped map[string]json.RawMessage
	if err := json.Unmarshal(body, &wrapped); err != nil {
		return nil, err
	}
	if wrapped == nil {
		return nil, errors.New("null where an object was expected")
	}
	if inner, ok := wrapped[key]; ok && len(wrapped) == 1 {
		body = inner
	}
	v := new(T)
	if err := json.Unmarshal(body, v); err != nil {
		return nil, err
	}
	return v, nil
}

// Docs returns where GET /api redirects: the public API documentation. It
// does not follow the redirect.
func (c *Client) Docs(ctx context.Context) (string, error) {
	req, err := c.newRequest(ctx, http.MethodGet, c.url("/api"), nil)
	if err != nil {
		return "", err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return "", err
	}
	switch {
	case resp.StatusCode >= 300 && resp.StatusCode <= 399:
		drainClose(resp.Body)
		loc, err := resp.Location()
		if err != nil {
			return "", malformed(req, fmt.Errorf("redirect without a usable Location: %v", err))
		}
		return loc.String(), nil
	case resp.StatusCode >= 200 && resp.StatusCode <= 299:
		drainClose(resp.Body)
		return "", malformed(req, fmt.Errorf("status %d, expected a redirect to the documentation", resp.StatusCode))
	}
	return "", newError(req, resp, c.RateLimit())
}
