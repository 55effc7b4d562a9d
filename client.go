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
// Nothing runs between calls (a token refresh runs in a goroutine that ends
// with it, so that a caller can leave at its ctx): a Client needs no Close.
// Package
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
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/blueclerk/blueclerk-go/internal/backoff"
	"github.com/blueclerk/blueclerk-go/internal/header"
	"github.com/blueclerk/blueclerk-go/internal/loopback"
	"golang.org/x/oauth2"
)

// DefaultBaseURL is the API host used unless [WithBaseURL] names another.
const DefaultBaseURL = "https://api.blueclerk.com"

// DocsURL is the public API documentation, where GET /api redirects.
const DocsURL = "https://github.com/blueclerk/api-docs"

// Version is this module's version, sent in the User-Agent.
const Version = "0.2.0"

const (
	apiPrefix = "/api/v1"
	// maxErrorBody bounds how much of an error answer is read.
	maxErrorBody = 64 << 10
	// maxObjectBody bounds one record: a created object, a list element, or
	// an answer that Do decodes.
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
	hc                *http.Client // from WithHTTPClient; only its Transport and Timeout are used
	rt                http.RoundTripper
	ts                oauth2.TokenSource
	backoff           backoff.Policy
	userAgent         string
	uaHeader          []string                  // userAgent as a header value
	auth              atomic.Pointer[authValue] // the last Authorization value built
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
// waits included, with the call's context). The SDK sends each attempt
// through the Transport (nil means [http.DefaultTransport]) after its own
// budget, token and retry layers, and never follows redirects; the client's
// other fields are not used, and the client is not modified.
//
// Without it, the SDK uses a copy of [http.DefaultTransport] that gives up
// on an attempt whose answer's headers have not begun within 60 seconds (a
// body being streamed is never cut).
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
	c.rt = defaultTransport()
	if c.hc != nil {
		// The retry layer applies the timeout to each attempt; over the
		// whole call it would cover the retries and hide, behind a
		// text-only error, whether a write may have happened.
		c.rt, c.attemptTimeout = c.hc.Transport, c.hc.Timeout
		if c.rt == nil {
			c.rt = http.DefaultTransport
		}
	}
	c.ts = ts
	c.uaHeader = []string{c.userAgent}
	c.backoff = defaultBackoff
	if c.limiter == nil {
		c.limiter = NewLimiter(c.plan)
	}
	c.limits.w.Limit = c.plan.HourlyLimit() // until answers say otherwise
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

// headerTimeout bounds the wait for an answer's headers on the default
// transport.
const headerTimeout = 60 * time.Second

// defaultTransport is the transport of clients built without
// WithHTTPClient, shared so that they share connections.
var defaultTransport = sync.OnceValue(func() http.RoundTripper { return newDefaultTransport() })

// newDefaultTransport returns a copy of http.DefaultTransport that gives up
// on an answer whose headers have not begun within headerTimeout.
func newDefaultTransport() *http.Transport {
	t, ok := http.DefaultTransport.(*http.Transport)
	if ok {
		t = t.Clone()
	} else {
		t = &http.Transport{Proxy: http.ProxyFromEnvironment, ForceAttemptHTTP2: true}
	}
	t.ResponseHeaderTimeout = headerTimeout
	return t
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
	return u.Scheme == "https" || u.Scheme == "http" && loopback.IsHost(u.Hostname())
}

// url returns the absolute URL of an API path such as "/api/v1/leads".
func (c *Client) url(path string) *url.URL {
	u := *c.base
	u.Path += path
	return &u
}

// jsonType is the header value of Accept and Content-Type; header values
// are shared, never modified.
var jsonType = []string{"application/json"}

// newCall builds the request of one call and its state. A non-nil body is
// sent as JSON; a write (any method but GET, HEAD, OPTIONS, TRACE, PUT and
// DELETE) gets an Idempotency-Key, the caller's or a fresh one, which every
// retry of it reuses.
func (c *Client) newCall(ctx context.Context, method string, u *url.URL, body any, opts []CallOption) (*http.Request, *call, error) {
	cl := &call{write: !repeatable(method)}
	if len(opts) > 0 {
		o, err := newCallOptions(opts)
		if err != nil {
			return nil, nil, err
		}
		cl.opts = o
	}
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: encoding the request body: %v", ErrInvalidRequest, err)
		}
		r = bytes.NewReader(b)
	}
	// The URL is built, not parsed: the request is made for none and given u.
	req, err := http.NewRequestWithContext(ctx, method, "", r)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v (not sent)", ErrInvalidRequest, err)
	}
	req.URL, req.Host = u, u.Host
	req.Header["Accept"] = jsonType
	req.Header["User-Agent"] = c.uaHeader
	if body != nil {
		req.Header["Content-Type"] = jsonType
	}
	if cl.write {
		cl.key = rand.Text()
		if cl.opts != nil && cl.opts.key != "" {
			cl.key = cl.opts.key
		}
		req.Header["Idempotency-Key"] = []string{cl.key}
		// Only the retry layer resends a write: the way to rewind its body
		// is kept in the call, out of every transport's sight, and a write
		// without a body gets an empty one that net/http cannot rewind.
		cl.getBody, req.GetBody = req.GetBody, nil
		if req.Body == nil || req.Body == http.NoBody {
			req.Body, req.ContentLength = emptyBody{}, 0
		}
	}
	if cl.opts != nil {
		for k, v := range cl.opts.header {
			req.Header[k] = v
		}
	}
	return req, cl, nil
}

// do sends req through the retry layer. It returns the response of a 2xx
// answer, whose body the caller closes with [drainClose]; for any other
// answer it reads and closes the body and returns [*Error], or
// [*RateLimitError] for 429.
func (c *Client) do(req *http.Request, cl *call) (*http.Response, error) {
	return c.send(req, cl, false)
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
	ct := header.Get(resp.Header, "Content-Type")
	if ct == "" || ct == "application/json" || strings.HasPrefix(ct, "application/json;") {
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json")) {
		return nil
	}
	return malformed(req, fmt.Errorf("content type %q, want application/json", ct))
}

// validator is implemented by every Create params type.
type validator interface{ validate() error }

// object is a pointer to a model that the API creates: it has an id.
type object[T any] interface {
	*T
	objectID() string
}

// create validates p, POSTs it to path and decodes the created object, bare
// or wrapped under key.
func create[T any, PT object[T], P validator](ctx context.Context, c *Client, path, key string, p P, opts []CallOption) (*T, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	req, cl, err := c.newCall(ctx, http.MethodPost, c.url(path), p, opts)
	if err != nil {
		return nil, err
	}
	resp, err := c.do(req, cl)
	if err != nil {
		return nil, err
	}
	body, err := readJSON(req, resp)
	if err != nil {
		return nil, err
	}
	v, err := decodeObject[T, PT](body, key)
	if err != nil {
		return nil, malformed(req, err)
	}
	return v, nil
}

// readJSON reads and closes a 2xx answer's body, at most maxObjectBody
// bytes, and checks that a body that is not empty is declared JSON.
func readJSON(req *http.Request, resp *http.Response) ([]byte, error) {
	defer drainClose(resp.Body)
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxObjectBody+1))
	switch {
	case err != nil:
		return nil, malformed(req, fmt.Errorf("reading the answer: %w", err))
	case len(body) > maxObjectBody:
		return nil, malformed(req, fmt.Errorf("answer larger than %d MiB", maxObjectBody>>20))
	case len(body) > 0:
		if err := checkJSON(req, resp); err != nil {
			return nil, err
		}
	}
	return body, nil
}

// decodeObject decodes a created object: T itself, or {key: T}. Anything
// else, such as {} or an object without an id, is an error, not an empty
// object.
func decodeObject[T any, PT object[T]](body []byte, key string) (*T, error) {
	v := PT(new(T))
	if err := json.Unmarshal(body, v); err != nil {
		return nil, err
	}
	if v.objectID() != "" {
		return v, nil
	}
	var wrapped map[string]json.RawMessage
	if err := json.Unmarshal(body, &wrapped); err != nil {
		return nil, err
	}
	inner, ok := wrapped[key]
	if !ok || len(wrapped) != 1 {
		return nil, fmt.Errorf("want the created object (with an id) or {%q: object}", key)
	}
	v = new(T)
	if err := json.Unmarshal(inner, v); err != nil {
		return nil, err
	}
	if v.objectID() == "" {
		return nil, fmt.Errorf("the created object under %q has no id", key)
	}
	return v, nil
}

// Docs returns where GET /api redirects: the public API documentation. It
// does not follow the redirect.
func (c *Client) Docs(ctx context.Context, opts ...CallOption) (string, error) {
	req, cl, err := c.newCall(ctx, http.MethodGet, c.url("/api"), nil, opts)
	if err != nil {
		return "", err
	}
	resp, err := c.send(req, cl, true)
	if err != nil {
		return "", err
	}
	drainClose(resp.Body)
	if resp.StatusCode < 300 {
		return "", malformed(req, fmt.Errorf("status %d, expected a redirect to the documentation", resp.StatusCode))
	}
	loc, err := resp.Location()
	if err != nil {
		return "", malformed(req, fmt.Errorf("redirect without a usable Location: %v", err))
	}
	return loc.String(), nil
}
