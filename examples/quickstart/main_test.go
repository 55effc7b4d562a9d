package main

import (
	"bytes"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"

	"go.uber.org/goleak"

	"github.com/blueclerk/blueclerk-go/blueclerktest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestRunAgainstTheFake runs the program as `go run ./examples/quickstart`
// does with no credentials in the environment.
func TestRunAgainstTheFake(t *testing.T) {
	var out bytes.Buffer
	if err := run(t.Context(), &out, func(string) string { return "" }); err != nil {
		t.Fatalf("run: %v\noutput:\n%s", err, out.String())
	}
	for _, want := range []string{
		"BlueClerk quickstart against an in-process fake at http://127.0.0.1:",
		"login: PKCE authorization code flow done",
		"leads: 3 John Smith (new), Maria Garcia (contacted), Wei Chen (qualified)",
		"tickets 0, jobs 0, properties 0, estimates 0, invoices 0, contacts 0",
		"created ticket ticket_1 (high, open): Leaky faucet in master bathroom",
		"created job job_1 for ticket_1",
		"created estimate estimate_1: 2 lines, total 131.45",
		"created invoice invoice_1: 131.45 due ",
		"webhook ticket.created (verified): ticket ticket_1 is open",
		"webhook job.created (verified): job job_1 is scheduled",
		"webhook job.completed (verified): job job_1 is completed",
		"webhook invoice.paid (verified): invoice invoice_1 is paid",
		"docs: https://github.com/blueclerk/api-docs",
		"budget: PRO, 489 of 500 requests left this hour", // 7 lists and 4 creates
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if regexp.MustCompile(`(at|rt|code)_[A-Z2-7]{26}`).MatchString(out.String()) {
		t.Errorf("output shows a token or code:\n%s", out.String())
	}
	if t.Failed() {
		t.Logf("output:\n%s", out.String())
	}
}

// TestRunWithCredentials runs the program's real-API path against the fake
// named by BLUECLERK_BASE_URL, the test playing the user who opens the
// printed URL.
func TestRunWithCredentials(t *testing.T) {
	srv := blueclerktest.NewServer(blueclerktest.WithOAuthClient("real-app", "real-secret", "http://127.0.0.1/callback"))
	defer srv.Close()
	env := map[string]string{
		"BLUECLERK_CLIENT_ID":     "real-app",
		"BLUECLERK_CLIENT_SECRET": "real-secret",
		"BLUECLERK_BASE_URL":      srv.URL,
	}
	out := &user{t: t}
	if err := run(t.Context(), out, func(k string) string { return env[k] }); err != nil {
		t.Fatalf("run: %v\noutput:\n%s", err, out)
	}
	out.wg.Wait()
	for _, want := range []string{
		"BlueClerk quickstart against " + srv.URL,
		"Open this URL in your browser to log in:",
		"leads: 3 ",
		"no writes: run with -create to make them",
		"budget: plan not configured, 493 of 500 requests left this hour",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q\noutput:\n%s", want, out)
		}
	}
	if len(srv.Tickets()) != 0 || srv.Requests(http.MethodPost, "/api/v1/tickets") != 0 {
		t.Error("the real-API path wrote without -create")
	}
	if strings.Contains(out.String(), "real-secret") {
		t.Error("output shows the client secret")
	}

	// With -create it makes the four writes.
	out = &user{t: t}
	if err := runReal(t.Context(), out, srv.URL, "real-app", "real-secret", true); err != nil {
		t.Fatalf("runReal: %v\noutput:\n%s", err, out)
	}
	out.wg.Wait()
	if len(srv.Tickets()) != 1 || len(srv.Jobs()) != 1 || len(srv.Estimates()) != 1 || len(srv.Invoices()) != 1 {
		t.Errorf("-create made %d tickets, %d jobs, %d estimates, %d invoices; want one each",
			len(srv.Tickets()), len(srv.Jobs()), len(srv.Estimates()), len(srv.Invoices()))
	}
}

// user is the program's output as the user reads it: when the login URL is
// printed, it opens it, following the redirect back to the program.
type user struct {
	t  *testing.T
	mu sync.Mutex
	b  bytes.Buffer
	wg sync.WaitGroup
}

var loginURL = regexp.MustCompile(`http://127\.0\.0\.1:\d+/oauth/authorize\?\S+`)

func (u *user) Write(p []byte) (int, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if link := loginURL.Find(p); link != nil {
		u.wg.Go(func() {
			tr := &http.Transport{}
			defer tr.CloseIdleConnections()
			resp, err := (&http.Client{Transport: tr}).Get(string(link))
			if err != nil {
				u.t.Errorf("opening the login URL: %v", err)
				return
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				u.t.Errorf("the login ended with %s", resp.Status)
			}
		})
	}
	return u.b.Write(p)
}

func (u *user) String() string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.b.String()
}
