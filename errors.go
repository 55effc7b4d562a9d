package blueclerk

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/blueclerk/blueclerk-go/internal/header"
)

// Sentinel errors. Every error the SDK returns for a failed call matches at
// most a few of these with [errors.Is]; the concrete types ([*Error],
// [*RateLimitError], [*AuthorizationError]) carry the details.
var (
	// ErrUnauthorized: the token is missing, expired or revoked (401), or an
	// OAuth grant was rejected. Log in again.
	ErrUnauthorized = errors.New("blueclerk: unauthorized")
	// ErrForbidden: any 403 answer.
	ErrForbidden = errors.New("blueclerk: forbidden")
	// ErrPlanRequired: the company is on the FREE plan, which cannot use the
	// API. Upgrade to STARTER or higher.
	ErrPlanRequired = errors.New("blueclerk: a paid plan (STARTER or higher) is required")
	// ErrInsufficientScope: the token lacks a scope the endpoint needs.
	// Request the scope in the next login.
	ErrInsufficientScope = errors.New("blueclerk: insufficient scope")
	// ErrNotFound: 404.
	ErrNotFound = errors.New("blueclerk: not found")
	// ErrRateLimited: the hourly budget is spent (429, or refused by the
	// client before sending). See [RateLimitError] for when it resets.
	ErrRateLimited = errors.New("blueclerk: rate limited")
	// ErrInvalidRequest: the server rejected the request as malformed (400,
	// 413, 422), or the client refused to send it because a required field is
	// missing or invalid.
	ErrInvalidRequest = errors.New("blueclerk: invalid request")
	// ErrServer: the server failed (5xx).
	ErrServer = errors.New("blueclerk: server error")
	// ErrOutcomeUnknown: a write was sent but its response was lost, so it
	// may or may not have happened. Check before repeating it, or enable
	// [WithIdempotentRetries].
	ErrOutcomeUnknown = errors.New("blueclerk: outcome unknown: the write may have happened")
)

// Error is the error returned for every non-2xx answer from the API. It
// never holds a token or any request header.
type Error struct {
	StatusCode int           // HTTP status code
	Code       string        // machine-readable code from the body or WWW-Authenticate, e.g. "plan_required"
	Message    string        // human-readable message from the body
	RequestID  string        // X-Request-Id of the answer; quote it to support
	Method     string        // request method
	URL        string        // request URL, without query
	RetryAfter time.Duration // from Retry-After, when the server sent one
	Body       []byte        // the start of the response body (at most 64 KiB)
	RateLimit  RateLimit     // the budget as last seen, this answer included

	// IdempotencyKey is the key of the write this answers ("" for a
	// read): repeat the write with it (see [WithIdempotencyKey]) where the
	// API honours keys.
	IdempotencyKey string
}

// Error names the method, URL, status, code, message and request id, and
// says what to do when there is something to say.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("blueclerk: ")
	b.WriteString(e.Method)
	b.WriteByte(' ')
	b.WriteString(e.URL)
	fmt.Fprintf(&b, ": %d %s", e.StatusCode, http.StatusText(e.StatusCode))
	if e.Code != "" {
		b.WriteString(": ")
		b.WriteString(e.Code)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.RequestID != "" {
		b.WriteString(" (request id ")
		b.WriteString(e.RequestID)
		b.WriteByte(')')
	}
	if hint := e.hint(); hint != "" {
		b.WriteString("; ")
		b.WriteString(hint)
	}
	return b.String()
}

// hint says what to do about the error, when there is something to say.
func (e *Error) hint() string {
	switch {
	case e.Is(ErrPlanRequired):
		return "upgrade the company to STARTER or higher"
	case e.Is(ErrInsufficientScope):
		return "log in again requesting the missing scope"
	case e.StatusCode == http.StatusUnauthorized:
		return "the token was rejected; log in again"
	case e.Is(ErrOutcomeUnknown):
		return "the write may have happened; check before repeating it"
	}
	return ""
}

// Is reports whether e matches one of the package's sentinel errors.
func (e *Error) Is(target error) bool {
	s := e.StatusCode
	switch target {
	case ErrUnauthorized:
		return s == http.StatusUnauthorized
	case ErrForbidden:
		return s == http.StatusForbidden
	case ErrPlanRequired:
		return e.Code == "plan_required"
	case ErrInsufficientScope:
		return e.Code == "insufficient_scope"
	case ErrNotFound:
		return s == http.StatusNotFound
	case ErrRateLimited:
		return s == http.StatusTooManyRequests
	case ErrInvalidRequest:
		return s == http.StatusBadRequest || s == http.StatusUnprocessableEntity || s == http.StatusRequestEntityTooLarge
	case ErrServer:
		return s >= 500 && s <= 599
	case ErrOutcomeUnknown:
		return e.Method == http.MethodPost &&
			(s == http.StatusInternalServerError || s == http.StatusBadGateway || s == http.StatusGatewayTimeout)
	}
	return false
}

// RateLimitError is returned when the hourly budget is spent: for a 429
// answer (Err set), and when the client refuses to send because the budget it
// last saw is spent until a reset further away than [WithRateLimitWait]
// allows (Err nil: nothing was sent). It matches [ErrRateLimited].
type RateLimitError struct {
	RateLimit  RateLimit     // the budget last seen; RateLimit.Reset says when it renews
	RetryAfter time.Duration // how long to wait before trying again
	Err        *Error        // the 429 answer, or nil when nothing was sent
}

// Error says whether the request was sent, when the budget resets and how
// long to wait.
func (e *RateLimitError) Error() string {
	var b strings.Builder
	if e.Err != nil {
		b.WriteString(e.Err.Error())
	} else {
		b.WriteString("blueclerk: rate limited: request not sent, the hourly budget is spent")
	}
	if !e.RateLimit.Reset.IsZero() {
		fmt.Fprintf(&b, "; budget resets at %s", e.RateLimit.Reset.UTC().Format(time.RFC3339))
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, "; retry after %s", e.RetryAfter.Round(time.Second))
	}
	return b.String()
}

// Is reports whether target is [ErrRateLimited].
func (e *RateLimitError) Is(target error) bool { return target == ErrRateLimited }

// Unwrap returns the 429 answer, or nil when nothing was sent.
func (e *RateLimitError) Unwrap() error {
	if e.Err == nil {
		return nil
	}
	return e.Err
}

// AuthorizationError is an OAuth 2.0 error (RFC 6749 §4.1.2.1 and §5.2), from
// the authorization redirect (StatusCode 0) or the token endpoint.
type AuthorizationError struct {
	Code        string // the RFC 6749 "error", e.g. "access_denied", "invalid_grant"
	Description string // "error_description"
	URI         string // "error_uri"
	StatusCode  int    // HTTP status of the token endpoint's answer; 0 for a redirect
}

// Error gives the RFC 6749 code, description and URI, never a token or a
// secret.
func (e *AuthorizationError) Error() string {
	var b strings.Builder
	b.WriteString("blueclerk: authorization failed")
	if e.StatusCode != 0 {
		fmt.Fprintf(&b, " (%d %s)", e.StatusCode, http.StatusText(e.StatusCode))
	}
	if e.Code != "" {
		b.WriteString(": ")
		b.WriteString(e.Code)
	}
	if e.Description != "" {
		b.WriteString(": ")
		b.WriteString(e.Description)
	}
	if e.URI != "" {
		b.WriteString(" (see ")
		b.WriteString(e.URI)
		b.WriteByte(')')
	}
	switch e.Code {
	case "plan_required":
		b.WriteString("; upgrade the company to STARTER or higher")
	case "invalid_grant":
		b.WriteString("; log in again")
	}
	return b.String()
}

// Is maps RFC 6749 error codes to the package's sentinels: plan_required to
// [ErrPlanRequired], access_denied to [ErrForbidden], invalid_grant and
// invalid_client to [ErrUnauthorized], invalid_scope and insufficient_scope
// to [ErrInsufficientScope], invalid_request to [ErrInvalidRequest], and a 5xx
// token endpoint answer to [ErrServer].
func (e *AuthorizationError) Is(target error) bool {
	switch target {
	case ErrPlanRequired:
		return e.Code == "plan_required"
	case ErrForbidden:
		return e.Code == "access_denied" || e.Code == "plan_required" || e.StatusCode == http.StatusForbidden
	case ErrUnauthorized:
		return e.Code == "invalid_grant" || e.Code == "invalid_client" || e.Code == "unauthorized_client"
	case ErrInsufficientScope:
		return e.Code == "invalid_scope" || e.Code == "insufficient_scope"
	case ErrInvalidRequest:
		return e.Code == "invalid_request"
	case ErrServer:
		return e.StatusCode >= 500 && e.StatusCode <= 599
	case ErrRateLimited:
		return e.StatusCode == http.StatusTooManyRequests
	}
	return false
}

// newError builds the error for a non-2xx answer and closes its body. rl is
// the client's budget, which the retry layer has already updated from this
// answer's headers. Wherever the answer echoes the access token cl sent, the
// token is replaced with "[redacted]".
func newError(req *http.Request, resp *http.Response, rl RateLimit, cl *call) error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	drainClose(resp.Body)
	if cl.token != "" && bytes.Contains(body, []byte(cl.token)) {
		body = bytes.ReplaceAll(body, []byte(cl.token), []byte(redacted))
	}
	u := *req.URL
	u.RawQuery, u.User = "", nil
	now := time.Now()
	e := &Error{
		StatusCode:     resp.StatusCode,
		Method:         req.Method,
		URL:            redact(u.String(), cl.token),
		RequestID:      cl.requestID,
		IdempotencyKey: cl.key,
		Body:           body,
		RateLimit:      rl,
	}
	e.Code, e.Message = errorBody(body)
	if code, desc := header.BearerError(resp.Header); code != "" {
		if e.Code == "" {
			e.Code = redact(code, cl.token)
		}
		if e.Message == "" {
			e.Message = redact(desc, cl.token)
		}
	}
	ra, hasRA := header.RetryAfter(resp.Header, now)
	e.RetryAfter = ra
	if resp.StatusCode != http.StatusTooManyRequests {
		return e
	}
	// The wait is the later of Retry-After and the budget's reset, when the
	// budget is known to be spent or no Retry-After was sent: a retry before
	// the reset would only be refused.
	rle := &RateLimitError{RateLimit: rl, RetryAfter: ra, Err: e}
	if !rl.Reset.IsZero() && (rl.Remaining == 0 || !hasRA) {
		rle.RetryAfter = max(rle.RetryAfter, rl.Reset.Sub(now))
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

// invalidf returns a client-side validation error matching
// [ErrInvalidRequest]; nothing was sent.
func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: %s (not sent)", ErrInvalidRequest, fmt.Sprintf(format, args...))
}
