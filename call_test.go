package blueclerk_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/blueclerk/blueclerk-go"
)

// recorded is what a loopback server saw of one request.
type recorded struct {
	method, path, query string
	header              http.Header
	body                string
}

// recorder is a loopback server that records every request and answers it
// with the next of its answers (the last one repeats).
type recorder struct {
	*httptest.Server
	mu       sync.Mutex
	requests []recorded
}

// reply is one scripted answer: status, body and header fields as name,
// value pairs.
type reply struct {
	status int
	body   string
	fields []string
}

func newRecorder(t *testing.T, answers ...reply) *recorder {
	t.Helper()
	rec := &recorder{}
	rec.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rec.mu.Lock()
		rec.requests = append(rec.requests, recorded{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Clone(), string(b)})
		a := answers[min(len(rec.requests), len(answers))-1]
		rec.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		for i := 0; i+1 < len(a.fields); i += 2 {
			w.Header().Set(a.fields[i], strings.ReplaceAll(a.fields[i+1], "{url}", rec.URL))
		}
		w.WriteHeader(a.status)
		_, _ = io.WriteString(w, a.body)
	}))
	t.Cleanup(rec.Close)
	return rec
}

func (rec *recorder) seen() []recorded {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]recorded(nil), rec.requests...)
}

// client returns a client of rec whose retries wait a millisecond at most.
func (rec *recorder) client(t *testing.T, opts ...blueclerk.Option) *blueclerk.Client {
	t.Helper()
	c := serverClient(t, rec.Server, opts...)
	blueclerk.FastRetries(c)
	return c
}

// serverClient returns a client of the loopback server srv that sends
// testToken; opts come after those, and so win.
func serverClient(tb testing.TB, srv *httptest.Server, opts ...blueclerk.Option) *blueclerk.Client {
	tb.Helper()
	opts = append([]blueclerk.Option{blueclerk.WithBaseURL(srv.URL), blueclerk.WithHTTPClient(srv.Client())}, opts...)
	c, err := blueclerk.NewClient(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: testToken}), opts...)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

var (
	created201 = reply{http.StatusCreated, `{"id": "contact_1", "name": "Jane"}`, []string{"X-Request-Id", "req-created"}}
	budget     = []string{"X-RateLimit-Limit", "500", "X-RateLimit-Remaining", "41", "X-RateLimit-Reset", "1800"}
)

// TestWithIdempotencyKey: a write sends the caller's key on every attempt,
// and the Response and the error carry it; a read sends none.
func TestWithIdempotencyKey(t *testing.T) {
	rec := newRecorder(t, reply{status: http.StatusServiceUnavailable, fields: []string{"Retry-After", "0"}}, created201)
	var resp blueclerk.Response
	_, err := rec.client(t).Contacts.Create(t.Context(), &blueclerk.CreateContactParams{Name: "Jane"},
		blueclerk.WithIdempotencyKey("order-1234"), blueclerk.WithResponseInto(&resp))
	require.NoError(t, err)
	seen := rec.seen()
	require.Len(t, seen, 2)
	for _, r := range seen {
		assert.Equal(t, []string{"order-1234"}, r.header.Values("Idempotency-Key"))
	}
	assert.Equal(t, blueclerk.Response{StatusCode: http.StatusCreated, Header: resp.Header, RequestID: "req-created",
		IdempotencyKey: "order-1234", Attempts: 2}, resp)

	rec = newRecorder(t, reply{status: http.StatusConflict, body: `{"error": "conflict"}`})
	_, err = rec.client(t).Contacts.Create(t.Context(), &blueclerk.CreateContactParams{Name: "Jane"}, blueclerk.WithIdempotencyKey("order-1234"))
	var e *blueclerk.Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, "order-1234", e.IdempotencyKey)

	rec = newRecorder(t, reply{http.StatusOK, `{"contacts": []}`, nil})
	_, err = rec.client(t).Contacts.List(t.Context(), blueclerk.WithIdempotencyKey("order-1234"))
	require.NoError(t, err)
	assert.Empty(t, rec.seen()[0].header.Values("Idempotency-Key"), "a read sends no key")

	for _, bad := range []string{"", " padded", "two\nlines", strings.Repeat("k", 256)} {
		rec = newRecorder(t, created201)
		_, err = rec.client(t).Contacts.Create(t.Context(), &blueclerk.CreateContactParams{Name: "Jane"}, blueclerk.WithIdempotencyKey(bad))
		assert.ErrorIs(t, err, blueclerk.ErrInvalidRequest, "%q", bad)
		assert.Empty(t, rec.seen(), "nothing sent for %q", bad)
	}
}

// TestWithHeader: extra headers reach the server on every kind of call, a
// later one wins, Accept can be replaced, and the SDK's own three are
// refused in any case, sending nothing.
func TestWithHeader(t *testing.T) {
	rec := newRecorder(t, reply{http.StatusOK, `{"leads": []}`, nil})
	c := rec.client(t)
	_, err := c.Leads.List(t.Context(), blueclerk.WithHeader("x-trace-id", "a"), blueclerk.WithHeader("X-Trace-Id", "b"),
		blueclerk.WithHeader("Accept", "application/vnd.blueclerk+json"))
	require.NoError(t, err)
	for v, err := range c.Leads.All(t.Context(), blueclerk.WithHeader("X-Trace-Id", "c")) {
		require.NoError(t, err, v)
	}
	require.NoError(t, c.Do(t.Context(), http.MethodGet, "/api/v1/leads", nil, nil, blueclerk.WithHeader("X-Trace-Id", "d")))
	seen := rec.seen()
	require.Len(t, seen, 3)
	assert.Equal(t, []string{"b"}, seen[0].header.Values("X-Trace-Id"))
	assert.Equal(t, "application/vnd.blueclerk+json", seen[0].header.Get("Accept"))
	assert.Equal(t, "c", seen[1].header.Get("X-Trace-Id"))
	assert.Equal(t, "d", seen[2].header.Get("X-Trace-Id"))

	for _, name := range []string{"Authorization", "authorization", "IDEMPOTENCY-KEY", "user-agent", "bad name", "X-Ok\r\n"} {
		rec := newRecorder(t, created201)
		c := rec.client(t)
		_, err := c.Contacts.Create(t.Context(), &blueclerk.CreateContactParams{Name: "Jane"}, blueclerk.WithHeader(name, "x"))
		assert.ErrorIs(t, err, blueclerk.ErrInvalidRequest, name)
		_, err = c.Leads.List(t.Context(), blueclerk.WithHeader(name, "x"))
		assert.ErrorIs(t, err, blueclerk.ErrInvalidRequest, name)
		assert.Empty(t, rec.seen(), "nothing sent with %q", name)
	}
}

// TestWithResponseInto: the Response is filled on success and on failure,
// for a write, a read and a list over two pages (the last page's).
func TestWithResponseInto(t *testing.T) {
	t.Run("two pages", func(t *testing.T) {
		rec := newRecorder(t,
			reply{http.StatusOK, `{"leads": [{"id": "l1"}]}`, []string{"Link", `<{url}/api/v1/leads?page=2>; rel="next"`, "X-Request-Id", "req-p1"}},
			reply{http.StatusOK, `{"leads": [{"id": "l2"}]}`, append([]string{"X-Request-Id", "req-p2"}, budget...)})
		c := rec.client(t)
		var resp blueclerk.Response
		leads, err := c.Leads.List(t.Context(), blueclerk.WithResponseInto(&resp))
		require.NoError(t, err)
		assert.Len(t, leads, 2)
		assert.Equal(t, "req-p2", resp.RequestID)
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, 1, resp.Attempts)
		assert.Equal(t, 41, resp.RateLimit.Remaining)
		assert.Empty(t, resp.IdempotencyKey)
		assert.Equal(t, "req-p2", resp.Header.Get("X-Request-Id"))
	})
	t.Run("failed read", func(t *testing.T) {
		rec := newRecorder(t, reply{http.StatusBadGateway, `{"error": "bad_gateway"}`, append([]string{"X-Request-Id", "req-502"}, budget...)})
		var resp blueclerk.Response
		_, err := rec.client(t, blueclerk.WithMaxRetries(1)).Leads.List(t.Context(), blueclerk.WithResponseInto(&resp))
		require.ErrorIs(t, err, blueclerk.ErrServer)
		assert.Equal(t, http.StatusBadGateway, resp.StatusCode)
		assert.Equal(t, "req-502", resp.RequestID)
		assert.Equal(t, 2, resp.Attempts)
		assert.Equal(t, 41, resp.RateLimit.Remaining)
	})
	t.Run("lost write", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
				_ = conn.Close()
			}
		}))
		defer srv.Close()
		c := serverClient(t, srv)
		var resp blueclerk.Response
		_, err := c.Contacts.Create(t.Context(), &blueclerk.CreateContactParams{Name: "Jane"}, blueclerk.WithResponseInto(&resp))
		require.ErrorIs(t, err, blueclerk.ErrOutcomeUnknown)
		assert.Zero(t, resp.StatusCode, "no answer came")
		assert.Nil(t, resp.Header)
		assert.Equal(t, 1, resp.Attempts)
		assert.NotEmpty(t, resp.IdempotencyKey, "the key to repeat the write with")
	})
	t.Run("docs", func(t *testing.T) {
		rec := newRecorder(t, reply{http.StatusFound, "", []string{"Location", blueclerk.DocsURL, "X-Request-Id", "req-docs"}})
		var resp blueclerk.Response
		loc, err := rec.client(t).Docs(t.Context(), blueclerk.WithResponseInto(&resp))
		require.NoError(t, err)
		assert.Equal(t, blueclerk.DocsURL, loc)
		assert.Equal(t, http.StatusFound, resp.StatusCode)
		assert.Equal(t, "req-docs", resp.RequestID)
	})
}

// TestDo: any request through the same pipeline, with JSON in and out.
func TestDo(t *testing.T) {
	t.Run("raw answer", func(t *testing.T) {
		rec := newRecorder(t, reply{http.StatusOK, `{"widgets": [1, 2]}`, nil})
		var raw json.RawMessage
		require.NoError(t, rec.client(t).Do(t.Context(), http.MethodGet, "/api/v1/widgets?status=open&page=2", nil, &raw))
		assert.JSONEq(t, `{"widgets": [1, 2]}`, string(raw))
		r := rec.seen()[0]
		assert.Equal(t, "/api/v1/widgets", r.path)
		assert.Equal(t, "status=open&page=2", r.query)
		assert.Equal(t, "Bearer "+testToken, r.header.Get("Authorization"))
		assert.Empty(t, r.header.Values("Idempotency-Key"))
	})
	t.Run("write", func(t *testing.T) {
		rec := newRecorder(t, reply{status: http.StatusTooManyRequests, fields: []string{"Retry-After", "0"}},
			reply{http.StatusCreated, `{"id": "w1", "size": 3}`, nil})
		var out struct {
			ID   string `json:"id"`
			Size int    `json:"size"`
		}
		var resp blueclerk.Response
		require.NoError(t, rec.client(t).Do(t.Context(), http.MethodPatch, "/api/v1/widgets/w1", map[string]int{"size": 3}, &out,
			blueclerk.WithResponseInto(&resp)))
		assert.Equal(t, "w1", out.ID)
		assert.Equal(t, 3, out.Size)
		seen := rec.seen()
		require.Len(t, seen, 2)
		assert.JSONEq(t, `{"size": 3}`, seen[1].body)
		assert.Equal(t, "application/json", seen[1].header.Get("Content-Type"))
		assert.Equal(t, resp.IdempotencyKey, seen[0].header.Get("Idempotency-Key"))
		assert.Equal(t, resp.IdempotencyKey, seen[1].header.Get("Idempotency-Key"))
	})
	t.Run("write without a body", func(t *testing.T) {
		rec := newRecorder(t, reply{status: http.StatusNoContent})
		require.NoError(t, rec.client(t).Do(t.Context(), http.MethodPost, "/api/v1/widgets/w1/archive", nil, nil))
		seen := rec.seen()
		require.Len(t, seen, 1)
		assert.Empty(t, seen[0].body)
		assert.NotEmpty(t, seen[0].header.Get("Idempotency-Key"))
		assert.Empty(t, seen[0].header.Get("Content-Type"))
	})
	t.Run("no content", func(t *testing.T) {
		rec := newRecorder(t, reply{status: http.StatusNoContent})
		out := map[string]any{"kept": true}
		require.NoError(t, rec.client(t).Do(t.Context(), http.MethodDelete, "/api/v1/widgets/w1", nil, &out))
		assert.Equal(t, map[string]any{"kept": true}, out)
	})
	t.Run("error answer", func(t *testing.T) {
		rec := newRecorder(t, reply{http.StatusNotFound, `{"error": "not_found", "message": "no widget"}`, nil})
		err := rec.client(t).Do(t.Context(), http.MethodGet, "/api/v1/widgets/nope", nil, nil)
		assert.ErrorIs(t, err, blueclerk.ErrNotFound)
		assert.Contains(t, err.Error(), "no widget")
	})
	t.Run("refused paths", func(t *testing.T) {
		for _, path := range []string{"", "api/v1/leads", "//evil.example/api", "https://evil.example/api", "/api#frag"} {
			rec := newRecorder(t, reply{http.StatusOK, `{}`, nil})
			err := rec.client(t).Do(t.Context(), http.MethodGet, path, nil, nil)
			assert.ErrorIs(t, err, blueclerk.ErrInvalidRequest, path)
			assert.Empty(t, rec.seen(), "nothing sent for %q", path)
		}
	})
	t.Run("free plan", func(t *testing.T) {
		rec := newRecorder(t, reply{http.StatusOK, `{}`, nil})
		var resp blueclerk.Response
		err := rec.client(t, blueclerk.WithPlan(blueclerk.PlanFree)).Do(t.Context(), http.MethodPost, "/api/v1/widgets", map[string]int{}, nil,
			blueclerk.WithResponseInto(&resp))
		assert.ErrorIs(t, err, blueclerk.ErrPlanRequired)
		assert.Empty(t, rec.seen())
		assert.Zero(t, resp.Attempts)
	})
}

// TestOpenEnums: a priority the SDK does not list is sent as given, and
// the API's answer decides.
func TestOpenEnums(t *testing.T) {
	rec := newRecorder(t, reply{http.StatusCreated, `{"id": "t1", "priority": "asap"}`, nil})
	tk, err := rec.client(t).Tickets.Create(t.Context(), &blueclerk.CreateTicketParams{CustomerID: "c", Description: "d", Priority: "asap"})
	require.NoError(t, err)
	assert.Equal(t, blueclerk.Priority("asap"), tk.Priority)
	assert.Contains(t, rec.seen()[0].body, `"priority":"asap"`)
}

// TestDebugLine: one debug line per attempt, every page of an All
// included, with method, path and query, status, request id, attempt,
// duration and remaining; never the token, the key or a body.
func TestDebugLine(t *testing.T) {
	rec := newRecorder(t,
		reply{http.StatusOK, `{"leads": [{"id": "l1", "name": "Body Secret"}]}`, append([]string{"Link", `<{url}/api/v1/leads?page=2>; rel="next"`, "X-Request-Id", "req-p1"}, budget...)},
		reply{http.StatusOK, `{"leads": [{"id": "l2"}]}`, []string{"X-Request-Id", "req-p2"}},
		reply{http.StatusCreated, `{"id": "contact_1"}`, nil})
	var logs bytes.Buffer
	c := rec.client(t, blueclerk.WithLogger(slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	for _, err := range c.Leads.All(t.Context()) {
		require.NoError(t, err)
	}
	var resp blueclerk.Response
	_, err := c.Contacts.Create(t.Context(), &blueclerk.CreateContactParams{Name: "Jane Body"}, blueclerk.WithResponseInto(&resp))
	require.NoError(t, err)

	var lines []map[string]any
	for line := range strings.SplitSeq(strings.TrimSpace(logs.String()), "\n") {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m))
		lines = append(lines, m)
	}
	require.Len(t, lines, 3)
	assert.Equal(t, "GET", lines[0]["method"])
	assert.Equal(t, "/api/v1/leads", lines[0]["path"])
	assert.Equal(t, "/api/v1/leads?page=2", lines[1]["path"])
	assert.Equal(t, "req-p1", lines[0]["request_id"])
	assert.Equal(t, "req-p2", lines[1]["request_id"])
	assert.EqualValues(t, 200, lines[0]["status"])
	assert.EqualValues(t, 1, lines[0]["attempt"])
	assert.EqualValues(t, 41, lines[0]["remaining"])
	assert.NotContains(t, lines[1], "remaining", "the second page reported no budget")
	assert.Contains(t, lines[0], "duration")
	assert.Equal(t, "POST", lines[2]["method"])
	assert.EqualValues(t, 201, lines[2]["status"])
	out := logs.String()
	for _, secret := range []string{testToken, resp.IdempotencyKey, "Body Secret", "Jane Body", "Bearer"} {
		assert.NotContains(t, out, secret)
	}
}
