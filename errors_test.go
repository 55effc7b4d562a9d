package blueclerk_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/blueclerk/blueclerk-go"
)

var sentinels = []error{
	blueclerk.ErrUnauthorized, blueclerk.ErrForbidden, blueclerk.ErrPlanRequired,
	blueclerk.ErrInsufficientScope, blueclerk.ErrNotFound, blueclerk.ErrRateLimited,
	blueclerk.ErrInvalidRequest, blueclerk.ErrServer, blueclerk.ErrOutcomeUnknown,
	blueclerk.ErrMalformedResponse,
}

// answer builds a response with the given status, content type and body.
func answer(status int, contentType, body string, hdr ...string) *http.Response {
	resp := httpmock.NewStringResponse(status, body)
	if contentType != "" {
		resp.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		resp.Header.Add(hdr[i], hdr[i+1])
	}
	return resp
}

const htmlPage = `<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>
<body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>`

func TestBadAnswers(t *testing.T) {
	tests := []struct {
		name   string
		post   bool // Tickets.Create instead of Tickets.List
		resp   *http.Response
		want   []error // sentinels the error must match; all others must not match
		status int     // *Error.StatusCode, when an *Error is expected
		code   string  // *Error.Code
		msg    string  // in the error text
	}{
		{name: "malformed JSON", resp: answer(200, "application/json", `{"tickets": [{"id": `),
			want: []error{blueclerk.ErrMalformedResponse}},
		{name: "not JSON at all", resp: answer(200, "", `hello`),
			want: []error{blueclerk.ErrMalformedResponse}},
		{name: "HTML 502 page", resp: answer(502, "text/html", htmlPage),
			want: []error{blueclerk.ErrServer}, status: 502},
		{name: "HTML 502 page on a write", post: true, resp: answer(502, "text/html", htmlPage),
			want: []error{blueclerk.ErrServer, blueclerk.ErrOutcomeUnknown}, status: 502, msg: "may have happened"},
		{name: "truncated body", resp: answer(200, "application/json", `{"tickets":[{"id":"t1"},{"id":"t2"`),
			want: []error{blueclerk.ErrMalformedResponse}, msg: "unexpected EOF"},
		{name: "truncated after the array", resp: answer(200, "application/json", `{"tickets":[{"id":"t1"}]`),
			want: []error{blueclerk.ErrMalformedResponse}},
		{name: "trailing garbage", resp: answer(200, "application/json", `{"tickets":[]} {"x":1}`),
			want: []error{blueclerk.ErrMalformedResponse}},
		{name: "empty 200", resp: answer(200, "application/json", ``),
			want: []error{blueclerk.ErrMalformedResponse}},
		{name: "empty 201", post: true, resp: answer(201, "application/json", ``),
			want: []error{blueclerk.ErrMalformedResponse}},
		{name: "null 201", post: true, resp: answer(201, "application/json", `null`),
			want: []error{blueclerk.ErrMalformedResponse}},
		{name: "array 201", post: true, resp: answer(201, "application/json", `[1]`),
			want: []error{blueclerk.ErrMalformedResponse}},
		{name: "wrong content type", resp: answer(200, "text/html; charset=utf-8", `{"tickets":[]}`),
			want: []error{blueclerk.ErrMalformedResponse}, msg: "text/html"},
		{name: "wrong content type on a write", post: true, resp: answer(201, "text/plain", `{"id":"t"}`),
			want: []error{blueclerk.ErrMalformedResponse}},
		{name: "list key missing", resp: answer(200, "application/json", `{"items":[]}`),
			want: []error{blueclerk.ErrMalformedResponse}, msg: `no key "tickets"`},
		{name: "list key of the wrong type", resp: answer(200, "application/json", `{"tickets":{"id":"t"}}`),
			want: []error{blueclerk.ErrMalformedResponse}, msg: "not an array"},
		{name: "list key null", resp: answer(200, "application/json", `{"tickets":null}`),
			want: []error{blueclerk.ErrMalformedResponse}},
		{name: "element of the wrong type", resp: answer(200, "application/json", `{"tickets":[{"id":7}]}`),
			want: []error{blueclerk.ErrMalformedResponse}},
		{name: "top-level array", resp: answer(200, "application/json", `[{"id":"t"}]`),
			want: []error{blueclerk.ErrMalformedResponse}},
		{name: "401 invalid_token", resp: answer(401, "application/json", `{"error":"invalid_token","message":"token expired"}`,
			"WWW-Authenticate", `Bearer realm="api", error="invalid_token", error_description="The access token expired"`),
			want: []error{blueclerk.ErrUnauthorized}, status: 401, code: "invalid_token", msg: "log in again"},
		{name: "401 header only", resp: answer(401, "", ``,
			"WWW-Authenticate", `Bearer error="invalid_token", error_description="expired"`),
			want: []error{blueclerk.ErrUnauthorized}, status: 401, code: "invalid_token", msg: "expired"},
		{name: "403 plan_required", resp: answer(403, "application/json", `{"error":"plan_required","message":"Upgrade to STARTER"}`),
			want: []error{blueclerk.ErrForbidden, blueclerk.ErrPlanRequired}, status: 403, code: "plan_required", msg: "upgrade"},
		{name: "403 insufficient_scope", resp: answer(403, "", ``,
			"WWW-Authenticate", `Bearer error="insufficient_scope", scope="tickets.write"`),
			want: []error{blueclerk.ErrForbidden, blueclerk.ErrInsufficientScope}, status: 403, code: "insufficient_scope"},
		{name: "403 other", resp: answer(403, "application/json", `{"error":{"code":"forbidden","message":"no"}}`),
			want: []error{blueclerk.ErrForbidden}, status: 403, code: "forbidden", msg: "no"},
		{name: "404", resp: answer(404, "application/json", `{"error":"not_found","error_description":"no such route"}`),
			want: []error{blueclerk.ErrNotFound}, status: 404, code: "not_found", msg: "no such route"},
		{name: "400", post: true, resp: answer(400, "application/json", `{"error":"invalid_json"}`),
			want: []error{blueclerk.ErrInvalidRequest}, status: 400, code: "invalid_json"},
		{name: "422", post: true, resp: answer(422, "application/json", `{"error":"invalid_request","message":"customerId is required"}`),
			want: []error{blueclerk.ErrInvalidRequest}, status: 422, code: "invalid_request", msg: "customerId is required"},
		{name: "413", post: true, resp: answer(413, "application/json", `{"error":"too_large"}`),
			want: []error{blueclerk.ErrInvalidRequest}, status: 413, code: "too_large"},
		{name: "500 read", resp: answer(500, "application/json", `{"error":"internal"}`),
			want: []error{blueclerk.ErrServer}, status: 500, code: "internal"},
		{name: "500 write", post: true, resp: answer(500, "application/json", `{"error":"internal"}`),
			want: []error{blueclerk.ErrServer, blueclerk.ErrOutcomeUnknown}, status: 500, code: "internal"},
		{name: "503 write", post: true, resp: answer(503, "", ``),
			want: []error{blueclerk.ErrServer}, status: 503},
		{name: "302 elsewhere", resp: answer(302, "", ``, "Location", "https://evil.example.com/"),
			want: nil, status: 302},
		{name: "429", resp: answer(429, "application/json", `{"error":"rate_limited"}`, "Retry-After", "120",
			"X-RateLimit-Limit", "500", "X-RateLimit-Remaining", "0", "X-RateLimit-Reset", "4102444800"),
			want: []error{blueclerk.ErrRateLimited}, status: 429, code: "rate_limited"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, mt := setup(t)
			tt.resp.Header.Set("X-Request-Id", "req_42")
			mt.RegisterResponder(http.MethodGet, base+"/api/v1/tickets", httpmock.ResponderFromResponse(tt.resp))
			mt.RegisterResponder(http.MethodPost, base+"/api/v1/tickets", httpmock.ResponderFromResponse(tt.resp))
			var err error
			if tt.post {
				_, err = c.Tickets.Create(context.Background(), &blueclerk.CreateTicketParams{CustomerID: "c", Description: "d"})
			} else {
				_, err = c.Tickets.List(context.Background())
			}
			require.Error(t, err)
			for _, s := range sentinels {
				want := false
				for _, w := range tt.want {
					want = want || w == s
				}
				assert.Equal(t, want, errors.Is(err, s), "errors.Is(err, %v) for %v", s, err)
			}
			assert.NotContains(t, err.Error(), testToken)
			if tt.msg != "" {
				assert.Contains(t, strings.ToLower(err.Error()), strings.ToLower(tt.msg))
			}
			var apiErr *blueclerk.Error
			if tt.status == 0 {
				assert.False(t, errors.As(err, &apiErr), "unexpected *Error: %v", err)
				return
			}
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, tt.status, apiErr.StatusCode)
			assert.Equal(t, tt.code, apiErr.Code)
			assert.Equal(t, "req_42", apiErr.RequestID)
			assert.Contains(t, apiErr.Error(), "req_42")
			assert.Contains(t, apiErr.Error(), "/api/v1/tickets")
			assert.NotEmpty(t, apiErr.Method)
		})
	}
}

func TestRateLimitErrorCarriesBudget(t *testing.T) {
	c, mt := setup(t, blueclerk.WithPlan(blueclerk.PlanPro))
	reset := time.Now().Add(30 * time.Minute).Truncate(time.Second)
	mt.RegisterResponder(http.MethodGet, base+"/api/v1/leads", httpmock.ResponderFromResponse(
		answer(429, "application/json", `{"error":"rate_limited"}`, "Retry-After", "120",
			"X-RateLimit-Limit", "500", "X-RateLimit-Remaining", "0", "X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))))
	_, err := c.Leads.List(context.Background())
	var rl *blueclerk.RateLimitError
	require.ErrorAs(t, err, &rl)
	// Retry-After ends before the budget's reset: the wait is the later.
	assert.InDelta(t, 30*time.Minute, rl.RetryAfter, float64(2*time.Second))
	assert.Equal(t, 500, rl.RateLimit.Limit)
	assert.Equal(t, 0, rl.RateLimit.Remaining)
	assert.True(t, reset.Equal(rl.RateLimit.Reset))
	require.NotNil(t, rl.Err)
	assert.Equal(t, 429, rl.Err.StatusCode)
	assert.Equal(t, blueclerk.PlanPro, rl.RateLimit.Plan)
	assert.Contains(t, err.Error(), reset.UTC().Format(time.RFC3339))
	assert.Equal(t, rl.RateLimit, c.RateLimit(), "the client keeps the budget the answer reported")
}

func TestErrorBodyIsBounded(t *testing.T) {
	c, mt := setup(t)
	huge := `{"error":"x","message":"` + strings.Repeat("a", 1<<20) + `"}`
	mt.RegisterResponder(http.MethodGet, base+"/api/v1/leads", httpmock.ResponderFromResponse(answer(500, "application/json", huge)))
	_, err := c.Leads.List(context.Background())
	var apiErr *blueclerk.Error
	require.ErrorAs(t, err, &apiErr)
	assert.Len(t, apiErr.Body, 64<<10)
	assert.Empty(t, apiErr.Code, "a cut body is not parsed")
}

// failingBody returns some bytes, then the error a reset connection gives.
type failingBody struct {
	data   io.Reader
	closed bool
}

func (b *failingBody) Read(p []byte) (int, error) {
	n, err := b.data.Read(p)
	if err == io.EOF {
		return n, syscall.ECONNRESET
	}
	return n, err
}

func (b *failingBody) Close() error { b.closed = true; return nil }

func TestConnectionBrokenMidList(t *testing.T) {
	c, mt := setup(t)
	body := &failingBody{data: strings.NewReader(`{"tickets":[{"id":"t1"},{"id":`)}
	mt.RegisterResponder(http.MethodGet, base+"/api/v1/tickets", func(req *http.Request) (*http.Response, error) {
		resp := answer(200, "application/json", "")
		resp.Body = body
		return resp, nil
	})
	got, err := collect(c.Tickets.All(context.Background()))
	require.ErrorIs(t, err, syscall.ECONNRESET)
	assert.NotErrorIs(t, err, blueclerk.ErrMalformedResponse)
	assert.Contains(t, err.Error(), "reading the answer")
	require.Len(t, got, 1, "what arrived before the break is delivered")
	assert.True(t, body.closed)
}

func TestTransportErrorOnRead(t *testing.T) {
	c, mt := setup(t)
	mt.RegisterResponder(http.MethodGet, base+"/api/v1/tickets", httpmock.NewErrorResponder(syscall.ECONNREFUSED))
	_, err := c.Tickets.List(context.Background())
	require.ErrorIs(t, err, syscall.ECONNREFUSED)
	assert.NotContains(t, err.Error(), testToken)
}

func TestAuthorizationErrorMapping(t *testing.T) {
	tests := []struct {
		err  *blueclerk.AuthorizationError
		want []error
	}{
		{&blueclerk.AuthorizationError{Code: "plan_required"}, []error{blueclerk.ErrPlanRequired, blueclerk.ErrForbidden}},
		{&blueclerk.AuthorizationError{Code: "access_denied"}, []error{blueclerk.ErrForbidden}},
		{&blueclerk.AuthorizationError{Code: "invalid_grant", StatusCode: 400}, []error{blueclerk.ErrUnauthorized}},
		{&blueclerk.AuthorizationError{Code: "invalid_client", StatusCode: 401}, []error{blueclerk.ErrUnauthorized}},
		{&blueclerk.AuthorizationError{Code: "invalid_scope"}, []error{blueclerk.ErrInsufficientScope}},
		{&blueclerk.AuthorizationError{Code: "invalid_request", StatusCode: 400}, []error{blueclerk.ErrInvalidRequest}},
		{&blueclerk.AuthorizationError{Code: "temporarily_unavailable", StatusCode: 503}, []error{blueclerk.ErrServer}},
	}
	for _, tt := range tests {
		t.Run(tt.err.Code, func(t *testing.T) {
			for _, s := range sentinels {
				want := false
				for _, w := range tt.want {
					want = want || w == s
				}
				assert.Equal(t, want, errors.Is(tt.err, s), "errors.Is(%v, %v)", tt.err, s)
			}
			assert.Contains(t, tt.err.Error(), tt.err.Code)
		})
	}
}
