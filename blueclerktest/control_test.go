package blueclerktest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	blueclerk "github.com/blueclerk/blueclerk-go"
)

func TestControlIsOffByDefault(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	r := mustSend(t, testClient(t), "GET", s.URL+"/_fake/deliveries", "", "")
	if r.status != http.StatusNotFound {
		t.Errorf("GET /_fake/deliveries without WithControl: %d, want 404", r.status)
	}
}

func TestControlEmit(t *testing.T) {
	t.Parallel()
	s := newServer(t, WithControl())
	inv := s.AddInvoice(blueclerk.Invoice{CustomerID: "cust_1"})
	hc := testClient(t)
	for _, c := range []struct {
		body   string
		status int
	}{
		{`{"event":"invoice.paid","id":"` + inv.ID + `"}`, http.StatusOK},
		{`{"event":"invoice.paid","id":"invoice_999"}`, http.StatusNotFound},
		{`{"event":"invoice.exploded","id":"` + inv.ID + `"}`, http.StatusNotFound},
		{`{"event":"invoice.paid"}`, http.StatusBadRequest},
		{`{"event":"invoice.paid","id":"x","extra":1}`, http.StatusBadRequest},
		{`{"event":"invoice.paid","id":"x"} {}`, http.StatusBadRequest},
		{`not json`, http.StatusBadRequest},
	} {
		r := mustSend(t, hc, "POST", s.URL+"/_fake/emit", "", c.body)
		if r.status != c.status {
			t.Errorf("emit %s: %d %s, want %d", c.body, r.status, r.body, c.status)
		}
		if c.status != http.StatusOK && r.errorCode(t) == "" {
			t.Errorf("emit %s: error answer without a code: %s", c.body, r.body)
		}
	}
	if got := s.Invoices()[0].Status; got != blueclerk.InvoiceStatusPaid {
		t.Errorf("invoice status after emitting invoice.paid: %q, want paid", got)
	}
	if r := mustSend(t, hc, "GET", s.URL+"/_fake/emit", "", ""); r.status != http.StatusMethodNotAllowed || r.header.Get("Allow") != "POST" {
		t.Errorf("GET /_fake/emit: %d Allow %q, want 405 Allow POST", r.status, r.header.Get("Allow"))
	}
}

func TestControlFaults(t *testing.T) {
	t.Parallel()
	s := newServer(t, WithControl())
	hc := testClient(t)
	tok := s.IssueToken().AccessToken
	for _, body := range []string{
		`{"method":"POST","path":"/api/v1/tickets","kind":"exploded"}`,
		`{"method":"POST","path":"api/v1/tickets","kind":"unavailable"}`,
		`{"path":"/api/v1/tickets","kind":"unavailable"}`,
		`{"method":"POST","path":"/api/v1/tickets","kind":"unavailable","delay":-1}`,
	} {
		if r := mustSend(t, hc, "POST", s.URL+"/_fake/faults", "", body); r.status != http.StatusBadRequest {
			t.Errorf("inject %s: %d, want 400", body, r.status)
		}
	}
	r := mustSend(t, hc, "POST", s.URL+"/_fake/faults", "",
		`{"method":"post","path":"/api/v1/tickets","kind":"unavailable","retryAfter":2}`)
	if r.status != http.StatusOK {
		t.Fatalf("inject: %d %s", r.status, r.body)
	}
	if r := mustSend(t, hc, "POST", s.URL+"/api/v1/tickets", tok, validBodies["tickets"]); r.status != 503 || r.header.Get("Retry-After") != "2" {
		t.Errorf("POST after injecting unavailable: %d Retry-After %q, want 503 and 2", r.status, r.header.Get("Retry-After"))
	}
	if r := mustSend(t, hc, "POST", s.URL+"/api/v1/tickets", tok, validBodies["tickets"]); r.status != 201 {
		t.Errorf("POST after the fault was served: %d, want 201", r.status)
	}
	var got struct {
		Faults []struct {
			Method, Path, Kind string
			RetryAfter         float64
			Done               bool
			Status             int
		}
	}
	mustSend(t, hc, "GET", s.URL+"/_fake/faults", "", "").decode(t, &got)
	if len(got.Faults) != 1 {
		t.Fatalf("GET /_fake/faults: %+v, want one fault", got)
	}
	if f := got.Faults[0]; f.Method != "POST" || f.Path != "/api/v1/tickets" || f.Kind != "unavailable" ||
		f.RetryAfter != 2 || f.Done || f.Status != 503 {
		t.Errorf("fault record %+v", f)
	}
}

func TestControlBudget(t *testing.T) {
	t.Parallel()
	s := newServer(t, WithControl(), WithPlan(blueclerk.PlanStarter))
	hc := testClient(t)
	tok := s.IssueToken().AccessToken
	type budget struct{ Limit, Remaining int }
	for _, c := range []struct {
		body string
		want budget
	}{
		{`{"remaining":3}`, budget{100, 3}},
		{`{"remaining":1000}`, budget{100, 100}},
		{`{"remaining":-5}`, budget{100, 0}},
	} {
		var got budget
		mustSend(t, hc, "PUT", s.URL+"/_fake/budget", "", c.body).decode(t, &got)
		if got != c.want {
			t.Errorf("PUT %s: %+v, want %+v", c.body, got, c.want)
		}
	}
	if r := mustSend(t, hc, "PUT", s.URL+"/_fake/budget", "", `{}`); r.status != http.StatusBadRequest {
		t.Errorf("PUT {}: %d, want 400", r.status)
	}
	r := mustSend(t, hc, "GET", s.URL+"/api/v1/leads", tok, "")
	if r.status != http.StatusTooManyRequests {
		t.Errorf("GET leads with no budget left: %d, want 429", r.status)
	}
	mustSend(t, hc, "PUT", s.URL+"/_fake/budget", "", `{"remaining":2}`)
	r = mustSend(t, hc, "GET", s.URL+"/api/v1/leads", tok, "")
	if r.status != http.StatusOK || r.header.Get("X-RateLimit-Remaining") != "1" {
		t.Errorf("GET leads with 2 left: %d remaining %q, want 200 and 1", r.status, r.header.Get("X-RateLimit-Remaining"))
	}
	// Control requests never count against the budget.
	for range 5 {
		mustSend(t, hc, "GET", s.URL+"/_fake/deliveries", "", "")
		mustSend(t, hc, "GET", s.URL+"/_fake/faults", "", "")
	}
	var got budget
	mustSend(t, hc, "GET", s.URL+"/_fake/budget", "", "").decode(t, &got)
	if got != (budget{100, 1}) {
		t.Errorf("GET /_fake/budget after control requests: %+v, want 1 of 100 left", got)
	}
}

func TestControlDeliveries(t *testing.T) {
	t.Parallel()
	secret := NewWebhookSecret()
	v, err := blueclerk.NewWebhookVerifier(secret)
	if err != nil {
		t.Fatal(err)
	}
	recv := httptest.NewServer(v.Handler(func(context.Context, *blueclerk.Event) error { return nil }))
	t.Cleanup(recv.Close)
	s := newServer(t, WithControl(), WithWebhook(recv.URL, secret))
	hc := testClient(t)
	if r := mustSend(t, hc, "POST", s.URL+"/api/v1/tickets", s.IssueToken().AccessToken, validBodies["tickets"]); r.status != 201 {
		t.Fatalf("create: %d", r.status)
	}
	if err := s.WaitDeliveries(t.Context()); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Deliveries []struct {
			ID, Event, URL string
			Body           struct{ Event string }
			Attempts       int
			Status         int
			Delivered      bool
		}
	}
	mustSend(t, hc, "GET", s.URL+"/_fake/deliveries", "", "").decode(t, &got)
	if len(got.Deliveries) != 1 {
		t.Fatalf("deliveries: %+v, want one", got)
	}
	d := got.Deliveries[0]
	if d.ID == "" || d.Event != "ticket.created" || d.URL != recv.URL || d.Body.Event != "ticket.created" ||
		d.Attempts != 1 || d.Status != 204 || !d.Delivered {
		t.Errorf("delivery %+v", d)
	}
}

func TestControlUnknownPath(t *testing.T) {
	t.Parallel()
	s := newServer(t, WithControl())
	for _, p := range []string{"/_fake/", "/_fake/nothing", "/_fake/emit/1"} {
		if r := mustSend(t, testClient(t), "GET", s.URL+p, "", ""); r.status != http.StatusNotFound || r.errorCode(t) != "not_found" {
			t.Errorf("GET %s: %d %s, want 404 not_found", p, r.status, r.body)
		}
	}
}
