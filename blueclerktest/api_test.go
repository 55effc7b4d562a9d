package blueclerktest

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	blueclerk "github.com/blueclerk/blueclerk-go"
	"github.com/shopspring/decimal"
)

func testTicket() blueclerk.Ticket {
	return blueclerk.Ticket{CustomerID: "cust_1", Description: "Leaky faucet", Priority: blueclerk.PriorityHigh}
}

// validBodies are valid create bodies, by resource.
var validBodies = map[string]string{
	"tickets":    `{"customerId":"cust_123","propertyId":"prop_456","description":"Leaky faucet in master bathroom","priority":"high"}`,
	"jobs":       `{"ticketId":"ticket_123","scheduledDate":"2024-01-20T14:00:00Z","assignedTo":"user_456"}`,
	"properties": `{"address":"123 Main St","city":"Austin","state":"TX","zip":"78701","ownerId":"cust_123"}`,
	"estimates":  `{"customerId":"cust_123","lineItems":[{"description":"Labor","quantity":2,"unitPrice":75.00}]}`,
	"invoices":   `{"customerId":"cust_123","lineItems":[{"itemId":"item_456","quantity":1,"unitPrice":150.00}],"dueDate":"2024-02-01"}`,
	"contacts":   `{"name":"Jane Doe","email":"jane@example.com","phone":"555-5678","companyId":"company_123"}`,
}

func TestListEveryResource(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	s.AddTicket(testTicket())
	s.AddJob(blueclerk.Job{TicketID: "ticket_1", ScheduledDate: time.Now()})
	s.AddProperty(blueclerk.Property{Address: "1 Elm St", City: "Austin", State: "TX", Zip: "78701"})
	s.AddEstimate(blueclerk.Estimate{CustomerID: "cust_1"})
	s.AddInvoice(blueclerk.Invoice{CustomerID: "cust_1"})
	s.AddContact(blueclerk.Contact{Name: "Jane"})
	hc := testClient(t)
	tok := s.IssueToken().AccessToken
	want := map[string]int{"leads": 3, "tickets": 1, "jobs": 1, "properties": 1, "estimates": 1, "invoices": 1, "contacts": 1}
	for name, n := range want {
		r := mustSend(t, hc, "GET", s.URL+"/api/v1/"+name, tok, "")
		var body map[string][]map[string]any
		r.decode(t, &body)
		if r.status != 200 || len(body) != 1 || len(body[name]) != n || r.header.Get("Content-Type") != "application/json" {
			t.Errorf("GET %s: %d %s", name, r.status, r.body)
			continue
		}
		if id, _ := body[name][0]["id"].(string); id == "" {
			t.Errorf("GET %s: element without id: %s", name, r.body)
		}
	}
	var leads struct{ Leads []blueclerk.Lead }
	mustSend(t, hc, "GET", s.URL+"/api/v1/leads", tok, "").decode(t, &leads)
	if l := leads.Leads[0]; l.ID != "lead_1" || l.Name == "" || l.Status != blueclerk.LeadStatusNew || l.CreatedAt.IsZero() {
		t.Errorf("first sample lead %+v", l)
	}
	empty := newServer(t)
	r := mustSend(t, hc, "GET", empty.URL+"/api/v1/contacts", empty.IssueToken().AccessToken, "")
	if strings.TrimSpace(string(r.body)) != `{"contacts":[]}` {
		t.Errorf("empty list: %s", r.body)
	}
}

func TestCreateEveryResource(t *testing.T) {
	t.Parallel()
	for _, wrapped := range []bool{false, true} {
		var opts []Option
		if wrapped {
			opts = append(opts, WithWrappedCreates())
		}
		s := newServer(t, opts...)
		hc := testClient(t)
		tok := s.IssueToken().AccessToken
		for _, res := range resources[1:] {
			r := mustSend(t, hc, "POST", s.URL+"/api/v1/"+res.name, tok, validBodies[res.name])
			var obj map[string]json.RawMessage
			r.decode(t, &obj)
			if wrapped {
				var inner map[string]json.RawMessage
				if len(obj) != 1 || json.Unmarshal(obj[res.single], &inner) != nil {
					t.Fatalf("POST %s wrapped: %s", res.name, r.body)
				}
				obj = inner
			}
			if r.status != http.StatusCreated || len(obj["id"]) < 3 {
				t.Errorf("POST %s: %d %s", res.name, r.status, r.body)
			}
		}
		ticket := s.Tickets()[0]
		if ticket.ID != "ticket_1" || ticket.CustomerID != "cust_123" || ticket.PropertyID != "prop_456" ||
			ticket.Priority != blueclerk.PriorityHigh || ticket.Status != blueclerk.TicketStatusOpen ||
			ticket.CreatedAt.IsZero() || !ticket.UpdatedAt.Equal(ticket.CreatedAt) {
			t.Errorf("stored ticket %+v", ticket)
		}
		job := s.Jobs()[0]
		if job.TicketID != "ticket_123" || job.Status != blueclerk.JobStatusScheduled ||
			!job.ScheduledDate.Equal(time.Date(2024, 1, 20, 14, 0, 0, 0, time.UTC)) || job.AssignedTo != "user_456" {
			t.Errorf("stored job %+v", job)
		}
		if p := s.Properties()[0]; p.Zip != "78701" || p.OwnerID != "cust_123" {
			t.Errorf("stored property %+v", p)
		}
		if in := s.Invoices()[0]; in.DueDate != (blueclerk.Date{Year: 2024, Month: 2, Day: 1}) ||
			in.Status != blueclerk.InvoiceStatusDraft || !in.LineItems[0].UnitPrice.Equal(decimal.NewFromInt(150)) {
			t.Errorf("stored invoice %+v", in)
		}
		if c := s.Contacts()[0]; c.Name != "Jane Doe" || c.CompanyID != "company_123" {
			t.Errorf("stored contact %+v", c)
		}
	}
}

func TestMoneyIsExact(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	const big = "12345678901234567890.123456789"
	r := mustSend(t, testClient(t), "POST", s.URL+"/api/v1/estimates", s.IssueToken().AccessToken,
		`{"customerId":"c","lineItems":[{"description":"a","quantity":0.1,"unitPrice":`+big+`},{"description":"b","quantity":3,"unitPrice":0.2}]}`)
	if r.status != 201 || !strings.Contains(string(r.body), `"unitPrice":`+big) || !strings.Contains(string(r.body), `"quantity":0.1`) {
		t.Fatalf("POST estimate: %d %s", r.status, r.body)
	}
	li := s.Estimates()[0].LineItems
	if !li[0].UnitPrice.Equal(decimal.RequireFromString(big)) ||
		!li[0].Quantity.Mul(li[1].UnitPrice).Equal(decimal.RequireFromString("0.02")) {
		t.Fatalf("stored line items %+v", li)
	}
}

func TestValidation(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	hc := testClient(t)
	tok := s.IssueToken().AccessToken
	for _, c := range []struct {
		path, body string
		status     int
		message    string
	}{
		{"tickets", `{"description":"x"}`, 422, "customerId is required"},
		{"tickets", `{"customerId":"c"}`, 422, "description is required"},
		{"tickets", `{"customerId":"c","description":"x","priority":"asap"}`, 422, "priority must be one of low, medium, high, urgent"},
		{"tickets", `{"customerId":7,"description":"x"}`, 422, "customerId must be a string"},
		{"tickets", `{"customerId":null,"description":"x"}`, 422, "customerId is required"},
		{"jobs", `{"scheduledDate":"2024-01-20T14:00:00Z"}`, 422, "ticketId is required"},
		{"jobs", `{"ticketId":"t"}`, 422, "scheduledDate is required"},
		{"jobs", `{"ticketId":"t","scheduledDate":"tomorrow"}`, 422, "scheduledDate must be an RFC 3339 date-time such as 2024-01-20T14:00:00Z"},
		{"properties", `{"city":"A","state":"TX","zip":"1"}`, 422, "address is required"},
		{"properties", `{"address":"a","state":"TX","zip":"1"}`, 422, "city is required"},
		{"properties", `{"address":"a","city":"A","zip":"1"}`, 422, "state is required"},
		{"properties", `{"address":"a","city":"A","state":"TX"}`, 422, "zip is required"},
		{"estimates", `{"lineItems":[{"quantity":1,"unitPrice":1}]}`, 422, "customerId is required"},
		{"estimates", `{"customerId":"c","lineItems":[]}`, 422, "lineItems is required: at least one line item"},
		{"estimates", `{"customerId":"c","lineItems":[{"quantity":0,"unitPrice":1}]}`, 422, "lineItems[0].quantity must be greater than 0"},
		{"estimates", `{"customerId":"c","lineItems":[{"quantity":1,"unitPrice":1},{"quantity":1,"unitPrice":-0.01}]}`, 422, "lineItems[1].unitPrice must not be negative"},
		{"estimates", `{"customerId":"c","lineItems":[{"quantity":"lots","unitPrice":1}]}`, 422, "lineItems must be an array of {description, quantity, unitPrice} with numeric quantity and unitPrice"},
		{"invoices", `{"lineItems":[{"quantity":1,"unitPrice":1}],"dueDate":"2024-02-01"}`, 422, "customerId is required"},
		{"invoices", `{"customerId":"c","dueDate":"2024-02-01"}`, 422, "lineItems is required: at least one line item"},
		{"invoices", `{"customerId":"c","lineItems":[{"quantity":1,"unitPrice":1}]}`, 422, "dueDate is required"},
		{"invoices", `{"customerId":"c","lineItems":[{"quantity":1,"unitPrice":1}],"dueDate":"2024-02-30"}`, 422, "dueDate must be a date such as 2024-02-01"},
		{"invoices", `{"customerId":"c","lineItems":[{"quantity":-1,"unitPrice":1}],"dueDate":"2024-02-01"}`, 422, "lineItems[0].quantity must be greater than 0"},
		{"contacts", `{"email":"a@b.c"}`, 422, "name is required"},
		{"contacts", `{"name":"x"`, 400, "the body must be a JSON object"},
		{"contacts", `["name"]`, 400, "the body must be a JSON object"},
		{"contacts", `null`, 400, "the body must be a JSON object"},
	} {
		r := mustSend(t, hc, "POST", s.URL+"/api/v1/"+c.path, tok, c.body)
		var e struct{ Error, Message string }
		r.decode(t, &e)
		if r.status != c.status || e.Error != "invalid_request" || e.Message != c.message {
			t.Errorf("POST %s %s: %d %s, want %d %q", c.path, c.body, r.status, r.body, c.status, c.message)
		}
	}
	if n := len(s.Tickets()) + len(s.Jobs()) + len(s.Properties()) + len(s.Estimates()) + len(s.Invoices()) + len(s.Contacts()); n != 0 {
		t.Errorf("%d records stored from invalid bodies", n)
	}
	big := `{"name":"` + strings.Repeat("x", 1<<20) + `"}`
	if r := mustSend(t, hc, "POST", s.URL+"/api/v1/contacts", tok, big); r.status != http.StatusRequestEntityTooLarge {
		t.Errorf("POST over 1 MiB: %d, want 413", r.status)
	}
}

func TestUnauthorized(t *testing.T) {
	t.Parallel()
	clock := newClock()
	s := newServer(t, WithClock(clock.Now))
	hc := testClient(t)
	expired := s.IssueToken().AccessToken
	clock.Advance(time.Hour)
	for _, c := range []struct {
		name, token, challenge string
	}{
		{"missing", "", `Bearer realm="blueclerk"`},
		{"unknown", "at_nope", `Bearer realm="blueclerk", error="invalid_token", error_description="the access token is not valid"`},
		{"expired", expired, `Bearer realm="blueclerk", error="invalid_token", error_description="the access token expired"`},
	} {
		r := mustSend(t, hc, "GET", s.URL+"/api/v1/tickets", c.token, "")
		if r.status != 401 || r.header.Get("WWW-Authenticate") != c.challenge || r.errorCode(t) != "invalid_token" {
			t.Errorf("%s token: %d %q %s", c.name, r.status, r.header.Get("WWW-Authenticate"), r.body)
		}
		if c.token != "" && strings.Contains(string(r.body)+r.header.Get("WWW-Authenticate"), c.token) {
			t.Errorf("%s token: the answer repeats the token", c.name)
		}
	}
	r := mustSend(t, hc, "GET", s.URL+"/api/v1/tickets", "", "", "Authorization", "Basic YTpi")
	if r.status != 401 {
		t.Errorf("Basic credentials on the API: %d, want 401", r.status)
	}
}

func TestFreePlan(t *testing.T) {
	t.Parallel()
	s := newServer(t, WithPlan(blueclerk.PlanFree))
	hc := testClient(t)
	tok := s.IssueToken().AccessToken
	for _, m := range []string{"GET", "POST"} {
		r := mustSend(t, hc, m, s.URL+"/api/v1/tickets", tok, validBodies["tickets"])
		if r.status != 403 || r.errorCode(t) != "plan_required" || r.header.Get("X-RateLimit-Limit") != "" {
			t.Errorf("%s on FREE: %d %v %s", m, r.status, r.header, r.body)
		}
	}
	if len(s.Tickets()) != 0 {
		t.Error("a FREE company created a ticket")
	}
}

func TestInsufficientScope(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	hc := testClient(t)
	tok := s.IssueToken("tickets.read").AccessToken
	if r := mustSend(t, hc, "GET", s.URL+"/api/v1/tickets", tok, ""); r.status != 200 {
		t.Fatalf("GET tickets with tickets.read: %d", r.status)
	}
	for _, c := range []struct{ method, path, scope string }{
		{"POST", "/api/v1/tickets", "tickets.write"},
		{"GET", "/api/v1/jobs", "jobs.read"},
		{"GET", "/api/v1/leads", "leads.read"},
	} {
		r := mustSend(t, hc, c.method, s.URL+c.path, tok, validBodies["tickets"])
		want := `Bearer realm="blueclerk", error="insufficient_scope", scope="` + c.scope + `"`
		if r.status != 403 || r.header.Get("WWW-Authenticate") != want || r.errorCode(t) != "insufficient_scope" {
			t.Errorf("%s %s: %d %q %s", c.method, c.path, r.status, r.header.Get("WWW-Authenticate"), r.body)
		}
	}
	if len(s.Tickets()) != 0 {
		t.Error("a read-only token created a ticket")
	}
}

func TestPaging(t *testing.T) {
	t.Parallel()
	s := newServer(t, WithPageSize(2))
	for range 5 {
		s.AddTicket(testTicket())
	}
	hc := testClient(t)
	tok := s.IssueToken().AccessToken
	var ids []string
	next := s.URL + "/api/v1/tickets"
	for pages := 0; next != ""; pages++ {
		if pages > 3 {
			t.Fatal("more pages than there are tickets")
		}
		r := mustSend(t, hc, "GET", next, tok, "")
		var page struct{ Tickets []blueclerk.Ticket }
		r.decode(t, &page)
		for _, tk := range page.Tickets {
			ids = append(ids, tk.ID)
		}
		next = ""
		if link := r.header.Get("Link"); link != "" {
			target, rel, _ := strings.Cut(link, ">; ")
			if rel != `rel="next"` {
				t.Fatalf("Link %q", link)
			}
			next = strings.TrimPrefix(target, "<")
		}
	}
	if strings.Join(ids, " ") != "ticket_1 ticket_2 ticket_3 ticket_4 ticket_5" {
		t.Fatalf("paged tickets %v", ids)
	}
	if r := mustSend(t, hc, "GET", s.URL+"/api/v1/tickets?page=0", tok, ""); r.status != 400 {
		t.Errorf("page=0: %d, want 400", r.status)
	}
	r := mustSend(t, hc, "GET", s.URL+"/api/v1/tickets?page=9", tok, "")
	if strings.TrimSpace(string(r.body)) != `{"tickets":[]}` || r.header.Get("Link") != "" {
		t.Errorf("page past the end: %s Link %q", r.body, r.header.Get("Link"))
	}
}
