package blueclerktest

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// newServer starts a server that the test closes when it ends.
func newServer(t *testing.T, opts ...Option) *Server {
	t.Helper()
	s := NewServer(opts...)
	t.Cleanup(s.Close)
	return s
}

// testClient returns a client that does not follow redirects and opens a
// new connection for every request, so that a faulted connection is never
// reused and the transport never retries by itself.
func testClient(t *testing.T) *http.Client {
	tr := &http.Transport{DisableKeepAlives: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// reply is a whole answer.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// decode decodes the body into v, failing the test if it is not JSON.
func (r reply) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("answer %d is not JSON: %v: %s", r.status, err, r.body)
	}
}

// errorCode returns the "error" member of an error body.
func (r reply) errorCode(t *testing.T) string {
	t.Helper()
	var e struct{ Error, Message string }
	r.decode(t, &e)
	return e.Error
}

// send makes one request with an optional bearer token, JSON body and extra
// header pairs, and reads the whole answer.
func send(t *testing.T, hc *http.Client, method, url, token, body string, header ...string) (reply, error) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := hc.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return reply{}, err
	}
	return reply{resp.StatusCode, resp.Header, b}, nil
}

// mustSend is send failing the test on a transport error.
func mustSend(t *testing.T, hc *http.Client, method, url, token, body string, header ...string) reply {
	t.Helper()
	r, err := send(t, hc, method, url, token, body, header...)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	return r
}

// newClock returns a Clock for WithClock, at a fixed start.
func newClock() *Clock {
	return NewClock(time.Date(2024, time.January, 15, 10, 20, 0, 0, time.UTC))
}

func TestEveryAnswerHasRequestID(t *testing.T) {
	t.Parallel()
	s := newServer(t, WithOAuthClient("app", "app-secret", "http://127.0.0.1/cb"))
	hc := testClient(t)
	seen := map[string]bool{}
	for _, c := range []struct {
		method, path string
		status       int
	}{
		{"GET", "/api", http.StatusFound},
		{"GET", "/api/v1/leads", http.StatusUnauthorized},
		{"GET", "/api/v1/nothing", http.StatusNotFound},
		{"DELETE", "/api/v1/tickets", http.StatusMethodNotAllowed},
		{"POST", "/oauth/token", http.StatusUnauthorized},
		{"GET", "/oauth/authorize", http.StatusBadRequest},
	} {
		r := mustSend(t, hc, c.method, s.URL+c.path, "", "")
		if r.status != c.status {
			t.Errorf("%s %s: status %d, want %d", c.method, c.path, r.status, c.status)
		}
		id := r.header.Get("X-Request-Id")
		if id == "" || seen[id] {
			t.Errorf("%s %s: X-Request-Id %q is missing or repeated", c.method, c.path, id)
		}
		seen[id] = true
	}
	r := mustSend(t, hc, "GET", s.URL+"/api/v1/leads", s.IssueToken().AccessToken, "")
	if r.status != http.StatusOK || r.header.Get("X-Request-Id") == "" {
		t.Errorf("GET leads: status %d, X-Request-Id %q", r.status, r.header.Get("X-Request-Id"))
	}
}

func TestDocsRedirect(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	r := mustSend(t, testClient(t), "GET", s.URL+"/api", "", "")
	if r.status != http.StatusFound || r.header.Get("Location") != "https://github.com/blueclerk/api-docs" {
		t.Fatalf("GET /api: %d Location %q", r.status, r.header.Get("Location"))
	}
}

func TestMethodNotAllowed(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	hc := testClient(t)
	tok := s.IssueToken().AccessToken
	for _, c := range []struct{ method, path, allow string }{
		{"DELETE", "/api/v1/tickets", "GET, POST"},
		{"POST", "/api/v1/leads", "GET"},
		{"GET", "/oauth/token", "POST"},
		{"POST", "/oauth/authorize", "GET"},
	} {
		r := mustSend(t, hc, c.method, s.URL+c.path, tok, "{}")
		if r.status != http.StatusMethodNotAllowed || r.header.Get("Allow") != c.allow {
			t.Errorf("%s %s: %d Allow %q, want 405 Allow %q", c.method, c.path, r.status, r.header.Get("Allow"), c.allow)
		}
	}
	if n := len(s.Leads()); n != 3 {
		t.Errorf("leads = %d, want the 3 samples", n)
	}
}

func TestRequestsCounted(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	hc := testClient(t)
	tok := s.IssueToken().AccessToken
	for range 3 {
		mustSend(t, hc, "GET", s.URL+"/api/v1/tickets?page=1", tok, "")
	}
	mustSend(t, hc, "POST", s.URL+"/api/v1/tickets", "", `{}`)
	if got := s.Requests("GET", "/api/v1/tickets"); got != 3 {
		t.Errorf("GET tickets counted %d, want 3", got)
	}
	if got := s.Requests("POST", "/api/v1/tickets"); got != 1 {
		t.Errorf("POST tickets counted %d, want 1", got)
	}
	if got := s.Requests("GET", "/api/v1/jobs"); got != 0 {
		t.Errorf("GET jobs counted %d, want 0", got)
	}
}

// TestCloseIsPrompt closes a server while a request waits in an hour-long
// delay and a webhook delivery keeps failing; goleak in TestMain checks that
// nothing is left running.
func TestCloseIsPrompt(t *testing.T) {
	t.Parallel()
	failing := newReceiver(t, http.StatusInternalServerError)
	s := NewServer(WithWebhook(failing.URL, testSecret))
	s.InjectFault("GET", "/api/v1/leads", Fault{Delay: time.Hour})
	s.AddTicket(testTicket())
	if err := s.Emit("ticket.updated", "ticket_1"); err != nil {
		t.Fatal(err)
	}
	failing.next(t) // a first attempt failed; retries are scheduled

	hc := testClient(t)
	done := make(chan error, 1)
	go func() {
		_, err := send(t, hc, "GET", s.URL+"/api/v1/leads", s.IssueToken().AccessToken, "")
		done <- err
	}()
	for s.Requests("GET", "/api/v1/leads") == 0 {
		time.Sleep(time.Millisecond) // wait for the request to arrive
	}
	s.Close()
	s.Close() // a second Close is harmless
	<-done
	if err := s.WaitDeliveries(context.Background()); err != nil {
		t.Fatal(err)
	}
	if d := s.Deliveries(); len(d) != 1 || d[0].Delivered {
		t.Fatalf("deliveries after Close: %+v", d)
	}
	if err := s.Emit("ticket.updated", "ticket_1"); err != nil {
		t.Fatal(err)
	}
	if d := s.Deliveries(); len(d) != 2 || d[1].Err == nil || d[1].Attempts != 0 {
		t.Fatalf("a delivery after Close must fail at once: %+v", d[1])
	}
}

func TestListen(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1:0", true},
		{"localhost:0", true},
		{"[::1]:0", true},
		{"0.0.0.0:0", false},
		{":0", false},
		{"example.com:0", false},
		{"127.0.0.1", false},
	} {
		l, err := Listen(c.addr)
		if l != nil {
			l.Close()
		}
		// ::1 may be missing on the machine; only its refusal would be wrong.
		if c.ok && err != nil && c.addr != "[::1]:0" || !c.ok && err == nil {
			t.Errorf("Listen(%q) = %v, want ok %v", c.addr, err, c.ok)
		}
	}
}
