package blueclerk

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
)

// CallOption adjusts one call: every service method and [Client.Do] and
// [Client.Docs] take them last.
type CallOption func(*callOptions)

// callOptions is what a call's CallOptions set.
type callOptions struct {
	key    string      // the write's Idempotency-Key; "" for a fresh one
	header http.Header // extra request headers, canonical names
	resp   *Response   // filled when the call ends
	err    error       // the first option that cannot be honoured
}

// newCallOptions applies opts; it fails with the first invalid one.
func newCallOptions(opts []CallOption) (*callOptions, error) {
	o := new(callOptions)
	for _, opt := range opts {
		if opt != nil {
			opt(o)
		}
	}
	if o.err != nil {
		return nil, o.err
	}
	return o, nil
}

// WithIdempotencyKey sends a write with key as its Idempotency-Key instead
// of a fresh random one; every retry of the call sends the same key. Use it
// to repeat a write whose outcome is unknown (see [ErrOutcomeUnknown]) with
// the key it first went out with ([Response.IdempotencyKey] or
// [Error.IdempotencyKey]), where the API honours keys, or to derive the key
// from the caller's own record so that a restarted process repeats it. A
// read sends no key. An empty key, or one with characters a header cannot
// carry, fails the call with [ErrInvalidRequest] before anything is sent.
func WithIdempotencyKey(key string) CallOption {
	return func(o *callOptions) {
		if key == "" || len(key) > 255 || !validHeaderValue(key) || strings.TrimSpace(key) != key {
			o.fail(invalidf("WithIdempotencyKey: %q is not a usable key (1 to 255 visible characters)", key))
			return
		}
		o.key = key
	}
}

// WithHeader sends an extra request header on the call, such as a tracing
// or an API-version header. It sets the header: a later WithHeader of the
// same name wins, and it replaces the SDK's own Accept or Content-Type if it
// names them. Authorization, Idempotency-Key and User-Agent are the SDK's
// own (use the token source, [WithIdempotencyKey] and [WithUserAgent]): naming
// them in any letter case, or giving an invalid name or value, fails the
// call with [ErrInvalidRequest] before anything is sent.
func WithHeader(name, value string) CallOption {
	return func(o *callOptions) {
		if !validHeaderName(name) || !validHeaderValue(value) {
			o.fail(invalidf("WithHeader: %q is not a valid header field", name))
			return
		}
		k := textproto.CanonicalMIMEHeaderKey(name)
		switch k {
		case "Authorization", "Idempotency-Key", "User-Agent":
			o.fail(invalidf("WithHeader: %s is set by the SDK", k))
			return
		}
		if o.header == nil {
			o.header = make(http.Header)
		}
		o.header[k] = []string{value}
	}
}

// WithResponseInto fills *dst with what the call's last answer said when
// the call ends, whether it succeeded or failed: status, headers, request
// id, the write's Idempotency-Key and the budget. For a List or All over
// several pages it describes the last page's request.
func WithResponseInto(dst *Response) CallOption {
	return func(o *callOptions) {
		if dst == nil {
			o.fail(invalidf("WithResponseInto: nil *Response"))
			return
		}
		o.resp = dst
	}
}

func (o *callOptions) fail(err error) {
	if o.err == nil {
		o.err = err
	}
}

// Response is what a call's last answer said, filled by [WithResponseInto].
type Response struct {
	StatusCode     int         // of the last answer; 0 when none came
	Header         http.Header // of the last answer
	RequestID      string      // X-Request-Id of the last answer
	IdempotencyKey string      // the key a write sent ("" for reads), also when the call failed
	RateLimit      RateLimit   // the budget this answer reported (zero when it reported none)
	Attempts       int         // attempts sent
}

// Do sends a request to an endpoint this SDK does not know yet, through the
// same pipeline as the service methods: token, budget, retries and errors.
//
// path is absolute ("/api/v1/…"), is appended to the base URL's path and may
// carry a query; a path that does not start with "/", or starts with "//",
// fails with [ErrInvalidRequest], sending nothing. in is encoded as the JSON
// body (nil: no body). out receives the JSON answer: nil discards it, a
// *json.RawMessage gets the raw bytes, anything else is decoded with
// encoding/json; an empty answer (such as a 204) leaves out untouched.
//
// POST and PATCH are writes: they get an Idempotency-Key and the write rules
// of [WithIdempotentRetries]. GET, HEAD, PUT and DELETE are retried as reads.
func (c *Client) Do(ctx context.Context, method, path string, in, out any, opts ...CallOption) error {
	if !strings.HasPrefix(path, "/") || strings.HasPrefix(path, "//") || strings.ContainsAny(path, "#\\") {
		return invalidf("Do: path %q must be absolute, such as /api/v1/leads", path)
	}
	if !validHeaderName(method) || strings.ToUpper(method) != method {
		return invalidf("Do: method %q is not an upper-case HTTP method", method)
	}
	u, err := url.Parse(c.base.String() + path)
	if err != nil {
		return invalidf("Do: path %q: %v", path, err)
	}
	if u.Host != c.base.Host || u.Scheme != c.base.Scheme {
		return invalidf("Do: path %q leaves the API host", path)
	}
	req, cl, err := c.newCall(ctx, method, u, in, opts)
	if err != nil {
		return err
	}
	resp, err := c.do(req, cl)
	if err != nil {
		return err
	}
	if out == nil {
		drainClose(resp.Body)
		return nil
	}
	body, err := readJSON(req, resp)
	if err != nil || len(body) == 0 {
		return err
	}
	if raw, ok := out.(*json.RawMessage); ok {
		if !json.Valid(body) {
			return malformed(req, fmt.Errorf("the answer is not JSON"))
		}
		*raw = body
		return nil
	}
	if err := json.Unmarshal(body, out); err != nil {
		return malformed(req, err)
	}
	return nil
}

// validHeaderName reports whether s is an RFC 9110 token, as a header
// field name or a method must be.
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// validHeaderValue reports whether s can be sent as a header field value:
// no control characters but tab.
func validHeaderValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}
