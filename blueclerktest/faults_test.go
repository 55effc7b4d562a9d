package blueclerktest

import (
	"errors"
	"slices"
	"syscall"
	"testing"
	"time"
)

func TestStatusFaults(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		fault      Fault
		status     int
		retryAfter string
		created    int
	}{
		{Fault{Kind: FaultUnavailable, RetryAfter: 1500 * time.Millisecond}, 503, "2", 0},
		{Fault{Kind: FaultTooManyRequests}, 429, "0", 0},
		{Fault{Kind: FaultServerError}, 500, "", 1},
		{Fault{Delay: time.Millisecond}, 201, "", 1},
	} {
		s := newServer(t)
		s.InjectFault("POST", "/api/v1/tickets", c.fault)
		hc := testClient(t)
		tok := s.IssueToken().AccessToken
		r := mustSend(t, hc, "POST", s.URL+"/api/v1/tickets", tok, validBodies["tickets"])
		if r.status != c.status || r.header.Get("Retry-After") != c.retryAfter || r.header.Get("X-Request-Id") == "" {
			t.Errorf("%v: %d Retry-After %q, want %d %q", c.fault.Kind, r.status, r.header.Get("Retry-After"), c.status, c.retryAfter)
		}
		if n := len(s.Tickets()); n != c.created {
			t.Errorf("%v: %d tickets, want %d", c.fault.Kind, n, c.created)
		}
		rec := s.Faults()
		if len(rec) != 1 || rec[0].Done != c.fault.Kind.Done() || rec[0].Method != "POST" || rec[0].Path != "/api/v1/tickets" {
			t.Errorf("%v: records %+v", c.fault.Kind, rec)
		}
		if c.fault.Kind.Done() && rec[0].Status != 201 {
			t.Errorf("%v: record says the handler answered %d, want 201", c.fault.Kind, rec[0].Status)
		}
		if r := mustSend(t, hc, "POST", s.URL+"/api/v1/tickets", tok, validBodies["tickets"]); r.status != 201 {
			t.Errorf("%v: the request after the fault got %d, want 201", c.fault.Kind, r.status)
		}
	}
}

func TestConnectionFaults(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		kind  FaultKind
		check func(error) bool
	}{
		{FaultDropResponse, func(err error) bool { return err != nil }},
		{FaultResetConnection, func(err error) bool { return errors.Is(err, syscall.ECONNRESET) }},
	} {
		s := newServer(t)
		s.InjectFault("POST", "/api/v1/tickets", Fault{Kind: c.kind})
		hc := testClient(t)
		tok := s.IssueToken().AccessToken
		_, err := send(t, hc, "POST", s.URL+"/api/v1/tickets", tok, validBodies["tickets"])
		if !c.check(err) {
			t.Errorf("%v: error %v", c.kind, err)
		}
		rec := s.Faults()
		if len(s.Tickets()) != 1 || len(rec) != 1 || !rec[0].Done || rec[0].Status != 201 {
			t.Errorf("%v: the write must be done: %d tickets, records %+v", c.kind, len(s.Tickets()), rec)
		}
		if r := mustSend(t, hc, "GET", s.URL+"/api/v1/tickets", tok, ""); r.status != 200 {
			t.Errorf("%v: the next request got %d", c.kind, r.status)
		}
	}
}

func TestFaultsQueueInOrder(t *testing.T) {
	t.Parallel()
	s := newServer(t, WithOAuthClient("app", "secret", "http://127.0.0.1/cb"))
	s.InjectFault("POST", "/oauth/token", Fault{Kind: FaultUnavailable}, Fault{Kind: FaultTooManyRequests})
	hc := testClient(t)
	var got []int
	for range 3 {
		got = append(got, mustSend(t, hc, "POST", s.URL+"/oauth/token", "", "").status)
	}
	if !slices.Equal(got, []int{503, 429, 401}) {
		t.Fatalf("statuses %v, want 503 429 401", got)
	}
}

func TestRandomFaultsAreReproducible(t *testing.T) {
	t.Parallel()
	rates := FaultRates{Unavailable: 0.2, TooManyRequests: 0.1, ServerError: 0.1, DropResponse: 0.1, ResetConnection: 0.1}
	run := func(seed uint64) []FaultKind {
		s := newServer(t, WithRandomFaults(seed, rates))
		hc := testClient(t)
		tok := s.IssueToken().AccessToken
		for range 40 {
			_, _ = send(t, hc, "GET", s.URL+"/api/v1/leads", tok, "")
		}
		_, _ = send(t, hc, "GET", s.URL+"/api", "", "") // not an API path: never faulted
		var kinds []FaultKind
		for _, r := range s.Faults() {
			if r.Path != "/api/v1/leads" {
				t.Errorf("fault on %s", r.Path)
			}
			kinds = append(kinds, r.Fault.Kind)
		}
		return kinds
	}
	a, b, other := run(7), run(7), run(8)
	if len(a) < 10 || len(a) > 35 {
		t.Fatalf("%d faults in 40 requests at 60%%", len(a))
	}
	if !slices.Equal(a, b) {
		t.Fatalf("same seed, other faults:\n%v\n%v", a, b)
	}
	if slices.Equal(a, other) {
		t.Fatalf("seeds 7 and 8 gave the same faults")
	}
}

func TestFaultKindString(t *testing.T) {
	t.Parallel()
	if FaultDropResponse.String() != "response dropped" || FaultKind(99).String() != "FaultKind(99)" {
		t.Fatal(FaultDropResponse.String(), FaultKind(99).String())
	}
}
