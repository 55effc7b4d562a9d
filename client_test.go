package blueclerk_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/blueclerk/blueclerk-go"
)

// testToken stands for a secret: no error text may contain it.
const testToken = "tok_SECRET_3f9a1c"

const base = "https://api.blueclerk.com"

// setup returns a client whose requests go to a fresh httpmock transport.
// Retries are off unless opts turn them on, so that one answer is one call.
func setup(t *testing.T, opts ...blueclerk.Option) (*blueclerk.Client, *httpmock.MockTransport) {
	t.Helper()
	mt := httpmock.NewMockTransport()
	opts = append([]blueclerk.Option{
		blueclerk.WithHTTPClient(&http.Client{Transport: mt}),
		blueclerk.WithMaxRetries(0),
	}, opts...)
	c, err := blueclerk.NewClient(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: testToken}), opts...)
	require.NoError(t, err)
	return c, mt
}

// jsonResponse answers with body as application/json.
func jsonResponse(status int, body string) *http.Response {
	resp := httpmock.NewStringResponse(status, body)
	resp.Header.Set("Content-Type", "application/json")
	return resp
}

func golden(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return string(b)
}

// checkHeaders asserts what every request carries.
func checkHeaders(t *testing.T, req *http.Request) {
	t.Helper()
	assert.Equal(t, "Bearer "+testToken, req.Header.Get("Authorization"))
	assert.Equal(t, "application/json", req.Header.Get("Accept"))
	assert.Contains(t, req.Header.Get("User-Agent"), "blueclerk-go/"+blueclerk.Version)
	if req.Method == http.MethodPost {
		assert.Equal(t, "application/json", req.Header.Get("Content-Type"))
		assert.NotEmpty(t, idempotencyKey(req))
	} else {
		assert.Empty(t, idempotencyKey(req))
	}
}

// idempotencyKey returns the Idempotency-Key a request carries, under
// whatever case of the header name (the wire is case-insensitive).
func idempotencyKey(req *http.Request) string {
	for k, v := range req.Header {
		if strings.EqualFold(k, "Idempotency-Key") && len(v) > 0 {
			return v[0]
		}
	}
	return ""
}

func mustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

var created = mustTime("2024-01-15T10:30:00Z")

// endpoints describes every resource: how to list it, how to create it from
// the documentation's example body, and what the server's answer decodes to.
var endpoints = []struct {
	plural, singular string
	list             func(context.Context, *blueclerk.Client) (any, error)
	all              func(context.Context, *blueclerk.Client) (any, error)
	create           func(context.Context, *blueclerk.Client) (any, error) // nil for leads
	object           string                                                // the server's JSON for one record
	want             any                                                   // that record decoded
}{
	{
		plural: "leads", singular: "lead",
		list: func(ctx context.Context, c *blueclerk.Client) (any, error) { return c.Leads.List(ctx) },
		all:  func(ctx context.Context, c *blueclerk.Client) (any, error) { return collect(c.Leads.All(ctx)) },
		object: `{"id":"lead_123","name":"John Smith","email":"john@example.com","phone":"555-1234",
			"status":"new","createdAt":"2024-01-15T10:30:00Z"}`,
		want: &blueclerk.Lead{ID: "lead_123", Name: "John Smith", Email: "john@example.com", Phone: "555-1234",
			Status: blueclerk.LeadStatusNew, CreatedAt: created},
	},
	{
		plural: "tickets", singular: "ticket",
		list: func(ctx context.Context, c *blueclerk.Client) (any, error) { return c.Tickets.List(ctx) },
		all:  func(ctx context.Context, c *blueclerk.Client) (any, error) { return collect(c.Tickets.All(ctx)) },
		create: func(ctx context.Context, c *blueclerk.Client) (any, error) {
			return c.Tickets.Create(ctx, &blueclerk.CreateTicketParams{CustomerID: "cust_123", PropertyID: "prop_456",
				Description: "Leaky faucet in master bathroom", Priority: blueclerk.PriorityHigh})
		},
		object: `{"id":"ticket_123","customerId":"cust_123","propertyId":"prop_456",
			"description":"Leaky faucet in master bathroom","priority":"high","status":"open",
			"createdAt":"2024-01-15T10:30:00Z","updatedAt":"2024-01-15T10:30:00Z"}`,
		want: &blueclerk.Ticket{ID: "ticket_123", CustomerID: "cust_123", PropertyID: "prop_456",
			Description: "Leaky faucet in master bathroom", Priority: blueclerk.PriorityHigh,
			Status: blueclerk.TicketStatusOpen, CreatedAt: created, UpdatedAt: created},
	},
	{
		plural: "jobs", singular: "job",
		list: func(ctx context.Context, c *blueclerk.Client) (any, error) { return c.Jobs.List(ctx) },
		all:  func(ctx context.Context, c *blueclerk.Client) (any, error) { return collect(c.Jobs.All(ctx)) },
		create: func(ctx context.Context, c *blueclerk.Client) (any, error) {
			return c.Jobs.Create(ctx, &blueclerk.CreateJobParams{TicketID: "ticket_123",
				ScheduledDate: mustTime("2024-01-20T14:00:00Z"), AssignedTo: "user_456"})
		},
		object: `{"id":"job_1","ticketId":"ticket_123","scheduledDate":"2024-01-20T14:00:00Z",
			"assignedTo":"user_456","status":"scheduled","createdAt":"2024-01-15T10:30:00Z"}`,
		want: &blueclerk.Job{ID: "job_1", TicketID: "ticket_123", ScheduledDate: mustTime("2024-01-20T14:00:00Z"),
			AssignedTo: "user_456", Status: blueclerk.JobStatusScheduled, CreatedAt: created},
	},
	{
		plural: "properties", singular: "property",
		list: func(ctx context.Context, c *blueclerk.Client) (any, error) { return c.Properties.List(ctx) },
		all:  func(ctx context.Context, c *blueclerk.Client) (any, error) { return collect(c.Properties.All(ctx)) },
		create: func(ctx context.Context, c *blueclerk.Client) (any, error) {
			return c.Properties.Create(ctx, &blueclerk.CreatePropertyParams{Address: "123 Main St", City: "Austin",
				State: "TX", Zip: "78701", OwnerID: "cust_123"})
		},
		object: `{"id":"prop_456","address":"123 Main St","city":"Austin","state":"TX","zip":"78701","ownerId":"cust_123"}`,
		want: &blueclerk.Property{ID: "prop_456", Address: "123 Main St", City: "Austin", State: "TX",
			Zip: "78701", OwnerID: "cust_123"},
	},
	{
		plural: "estimates", singular: "estimate",
		list: func(ctx context.Context, c *blueclerk.Client) (any, error) { return c.Estimates.List(ctx) },
		all:  func(ctx context.Context, c *blueclerk.Client) (any, error) { return collect(c.Estimates.All(ctx)) },
		create: func(ctx context.Context, c *blueclerk.Client) (any, error) {
			return c.Estimates.Create(ctx, &blueclerk.CreateEstimateParams{CustomerID: "cust_123",
				LineItems: []blueclerk.EstimateLineItem{{Description: "Labor",
					Quantity: decimal.NewFromInt(2), UnitPrice: decimal.RequireFromString("75.00")}}})
		},
		object: `{"id":"est_1","customerId":"cust_123","lineItems":[{"description":"Labor","quantity":2,"unitPrice":75.00}],
			"status":"draft","createdAt":"2024-01-15T10:30:00Z"}`,
		want: &blueclerk.Estimate{ID: "est_1", CustomerID: "cust_123",
			LineItems: []blueclerk.EstimateLineItem{{Description: "Labor",
				Quantity: decimal.RequireFromString("2"), UnitPrice: decimal.RequireFromString("75.00")}},
			Status: blueclerk.EstimateStatusDraft, CreatedAt: created},
	},
	{
		plural: "invoices", singular: "invoice",
		list: func(ctx context.Context, c *blueclerk.Client) (any, error) { return c.Invoices.List(ctx) },
		all:  func(ctx context.Context, c *blueclerk.Client) (any, error) { return collect(c.Invoices.All(ctx)) },
		create: func(ctx context.Context, c *blueclerk.Client) (any, error) {
			return c.Invoices.Create(ctx, &blueclerk.CreateInvoiceParams{CustomerID: "cust_123",
				LineItems: []blueclerk.InvoiceLineItem{{ItemID: "item_456",
					Quantity: decimal.NewFromInt(1), UnitPrice: decimal.RequireFromString("150.00")}},
				DueDate: blueclerk.Date{Year: 2024, Month: time.February, Day: 1}})
		},
		object: `{"id":"inv_1","customerId":"cust_123","lineItems":[{"itemId":"item_456","quantity":1,"unitPrice":150.00}],
			"dueDate":"2024-02-01","status":"sent","createdAt":"2024-01-15T10:30:00Z"}`,
		want: &blueclerk.Invoice{ID: "inv_1", CustomerID: "cust_123",
			LineItems: []blueclerk.InvoiceLineItem{{ItemID: "item_456",
				Quantity: decimal.RequireFromString("1"), UnitPrice: decimal.RequireFromString("150.00")}},
			DueDate: blueclerk.Date{Year: 2024, Month: time.February, Day: 1},
			Status:  blueclerk.InvoiceStatusSent, CreatedAt: created},
	},
	{
		plural: "contacts", singular: "contact",
		list: func(ctx context.Context, c *blueclerk.Client) (any, error) { return c.Contacts.List(ctx) },
		all:  func(ctx context.Context, c *blueclerk.Client) (any, error) { return collect(c.Contacts.All(ctx)) },
		create: func(ctx context.Context, c *blueclerk.Client) (any, error) {
			return c.Contacts.Create(ctx, &blueclerk.CreateContactParams{Name: "Jane Doe", Email: "jane@example.com",
				Phone: "555-5678", CompanyID: "company_123"})
		},
		object: `{"id":"contact_1","name":"Jane Doe","email":"jane@example.com","phone":"555-5678","companyId":"company_123"}`,
		want: &blueclerk.Contact{ID: "contact_1", Name: "Jane Doe", Email: "jane@example.com", Phone: "555-5678",
			CompanyID: "company_123"},
	},
}

// collect gathers what an All iterator yields, stopping at the first error.
func collect[T any](seq func(func(*T, error) bool)) ([]*T, error) {
	var out []*T
	for v, err := range seq {
		if err != nil {
			return out, err
		}
		out = append(out, v)
	}
	return out, nil
}

func TestListEveryEndpoint(t *testing.T) {
	for _, ep := range endpoints {
		for name, call := range map[string]func(context.Context, *blueclerk.Client) (any, error){"List": ep.list, "All": ep.all} {
			t.Run(ep.plural+"/"+name, func(t *testing.T) {
				t.Parallel()
				c, mt := setup(t)
				mt.RegisterResponder(http.MethodGet, base+"/api/v1/"+ep.plural, func(req *http.Request) (*http.Response, error) {
					checkHeaders(t, req)
					assert.Nil(t, req.Body)
					return jsonResponse(200, `{"`+ep.plural+`": [`+ep.object+`]}`), nil
				})
				got, err := call(context.Background(), c)
				require.NoError(t, err)
				v := reflect.ValueOf(got)
				require.Equal(t, 1, v.Len())
				assert.Equal(t, ep.want, v.Index(0).Interface())
				assert.Equal(t, 1, mt.GetTotalCallCount())
			})
		}
	}
}

func TestCreateEveryEndpoint(t *testing.T) {
	for _, ep := range endpoints {
		if ep.create == nil {
			continue
		}
		for _, wrapped := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/wrapped=%v", ep.plural, wrapped), func(t *testing.T) {
				t.Parallel()
				c, mt := setup(t)
				want := golden(t, "requests/"+ep.singular+".json")
				mt.RegisterResponder(http.MethodPost, base+"/api/v1/"+ep.plural, func(req *http.Request) (*http.Response, error) {
					checkHeaders(t, req)
					body, err := io.ReadAll(req.Body)
					require.NoError(t, err)
					assert.JSONEq(t, want, string(body), "request body differs from the documentation's example")
					assert.NotContains(t, string(body), `"75.00"`, "money must be a JSON number")
					answer := ep.object
					if wrapped {
						answer = `{"` + ep.singular + `": ` + answer + `}`
					}
					return jsonResponse(http.StatusCreated, answer), nil
				})
				got, err := ep.create(context.Background(), c)
				require.NoError(t, err)
				assert.Equal(t, ep.want, got)
				assert.Equal(t, 1, mt.GetTotalCallCount())
			})
		}
	}
}

func TestDocumentedLeadsExampleDecodes(t *testing.T) {
	c, mt := setup(t)
	mt.RegisterResponder(http.MethodGet, base+"/api/v1/leads", httpmock.ResponderFromResponse(
		jsonResponse(200, golden(t, "responses/leads.json"))))
	leads, err := c.Leads.List(context.Background())
	require.NoError(t, err)
	require.Len(t, leads, 1)
	assert.Equal(t, blueclerk.Lead{ID: "lead_123", Name: "John Smith", Email: "john@example.com",
		Phone: "555-1234", Status: blueclerk.LeadStatusNew, CreatedAt: created}, *leads[0])
}

func TestIdempotencyKeyIsFreshPerCall(t *testing.T) {
	c, mt := setup(t)
	var mu sync.Mutex
	keys := map[string]bool{}
	mt.RegisterResponder(http.MethodPost, base+"/api/v1/contacts", func(req *http.Request) (*http.Response, error) {
		mu.Lock()
		keys[idempotencyKey(req)] = true
		mu.Unlock()
		return jsonResponse(201, `{"id":"c"}`), nil
	})
	for range 10 {
		_, err := c.Contacts.Create(context.Background(), &blueclerk.CreateContactParams{Name: "A"})
		require.NoError(t, err)
	}
	assert.Len(t, keys, 10)
}

func TestUnknownEnumValuesAreKept(t *testing.T) {
	c, mt := setup(t)
	mt.RegisterResponder(http.MethodGet, base+"/api/v1/tickets", httpmock.ResponderFromResponse(jsonResponse(200,
		`{"tickets":[{"id":"t","priority":"critical","status":"archived","extra":{"nested":[1,2]}}]}`)))
	ts, err := c.Tickets.List(context.Background())
	require.NoError(t, err)
	require.Len(t, ts, 1)
	assert.Equal(t, blueclerk.Priority("critical"), ts[0].Priority)
	assert.Equal(t, blueclerk.TicketStatus("archived"), ts[0].Status)
}

func TestEmptyListIsEmptyNotNil(t *testing.T) {
	c, mt := setup(t)
	mt.RegisterResponder(http.MethodGet, base+"/api/v1/jobs", httpmock.ResponderFromResponse(jsonResponse(200,
		`{"meta":{"a":[{}]},"jobs":[],"more":"x"}`)))
	jobs, err := c.Jobs.List(context.Background())
	require.NoError(t, err)
	assert.NotNil(t, jobs)
	assert.Empty(t, jobs)
}

func TestNewClientOptions(t *testing.T) {
	ts := oauth2.StaticTokenSource(&oauth2.Token{AccessToken: testToken})
	tests := []struct {
		name    string
		opts    []blueclerk.Option
		wantErr string
	}{
		{"default", nil, ""},
		{"https", []blueclerk.Option{blueclerk.WithBaseURL("https://api.example.com/prefix/")}, ""},
		{"http loopback v4", []blueclerk.Option{blueclerk.WithBaseURL("http://127.0.0.1:8080")}, ""},
		{"http localhost", []blueclerk.Option{blueclerk.WithBaseURL("http://localhost:1")}, ""},
		{"http loopback v6", []blueclerk.Option{blueclerk.WithBaseURL("http://[::1]:9")}, ""},
		{"http remote", []blueclerk.Option{blueclerk.WithBaseURL("http://api.blueclerk.com")}, "only for loopback"},
		{"http private", []blueclerk.Option{blueclerk.WithBaseURL("http://10.0.0.1")}, "only for loopback"},
		{"ftp", []blueclerk.Option{blueclerk.WithBaseURL("ftp://x")}, "scheme must be https"},
		{"no host", []blueclerk.Option{blueclerk.WithBaseURL("https://")}, "no host"},
		{"credentials", []blueclerk.Option{blueclerk.WithBaseURL("https://u:p@x")}, "must not carry"},
		{"query", []blueclerk.Option{blueclerk.WithBaseURL("https://x/?a=1")}, "must not carry"},
		{"garbage", []blueclerk.Option{blueclerk.WithBaseURL("%zz")}, "base URL"},
		{"negative retries", []blueclerk.Option{blueclerk.WithMaxRetries(-1)}, "negative"},
		{"negative wait", []blueclerk.Option{blueclerk.WithRateLimitWait(-time.Second)}, "negative"},
		{"unknown plan", []blueclerk.Option{blueclerk.WithPlan("GOLD")}, "unknown plan"},
		{"nil http client", []blueclerk.Option{blueclerk.WithHTTPClient(nil)}, "nil"},
		{"nil limiter", []blueclerk.Option{blueclerk.WithLimiter(nil)}, "nil"},
		{"user agent line break", []blueclerk.Option{blueclerk.WithUserAgent("a\r\nX-Evil: 1")}, "line break"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := blueclerk.NewClient(ts, tt.opts...)
			if tt.wantErr == "" {
				require.NoError(t, err)
				require.NotNil(t, c.Tickets)
				return
			}
			require.ErrorContains(t, err, tt.wantErr)
			assert.Nil(t, c)
		})
	}
	_, err := blueclerk.NewClient(nil)
	require.ErrorContains(t, err, "nil token source")
}

func TestBaseURLPrefixIsKept(t *testing.T) {
	c, mt := setup(t, blueclerk.WithBaseURL("https://proxy.example.com/blueclerk/"))
	mt.RegisterResponder(http.MethodGet, "https://proxy.example.com/blueclerk/api/v1/contacts",
		httpmock.ResponderFromResponse(jsonResponse(200, `{"contacts":[]}`)))
	_, err := c.Contacts.List(context.Background())
	require.NoError(t, err)
}

func TestUserAgent(t *testing.T) {
	c, mt := setup(t, blueclerk.WithUserAgent("acme-sync/1.2"))
	mt.RegisterResponder(http.MethodGet, base+"/api/v1/leads", func(req *http.Request) (*http.Response, error) {
		ua := req.Header.Get("User-Agent")
		assert.True(t, strings.HasPrefix(ua, "acme-sync/1.2 blueclerk-go/"+blueclerk.Version+" go/"), ua)
		return jsonResponse(200, `{"leads":[]}`), nil
	})
	_, err := c.Leads.List(context.Background())
	require.NoError(t, err)
	require.Equal(t, 1, mt.GetTotalCallCount())
}

func TestDocs(t *testing.T) {
	c, mt := setup(t)
	mt.RegisterResponder(http.MethodGet, base+"/api", func(req *http.Request) (*http.Response, error) {
		resp := httpmock.NewStringResponse(http.StatusFound, "")
		resp.Header.Set("Location", blueclerk.DocsURL)
		return resp, nil
	})
	mt.RegisterResponder(http.MethodGet, blueclerk.DocsURL, httpmock.NewStringResponder(200, "docs"))
	got, err := c.Docs(context.Background())
	require.NoError(t, err)
	assert.Equal(t, blueclerk.DocsURL, got)
	assert.Equal(t, 0, mt.GetCallCountInfo()["GET "+blueclerk.DocsURL], "the redirect must not be followed")

	mt.RegisterResponder(http.MethodGet, base+"/api", httpmock.NewStringResponder(200, "<html>"))
	_, err = c.Docs(context.Background())
	require.ErrorIs(t, err, blueclerk.ErrMalformedResponse)

	mt.RegisterResponder(http.MethodGet, base+"/api", httpmock.NewStringResponder(404, ""))
	_, err = c.Docs(context.Background())
	require.ErrorIs(t, err, blueclerk.ErrNotFound)
}

func TestConcurrentUse(t *testing.T) {
	c, mt := setup(t)
	mt.RegisterResponder(http.MethodGet, base+"/api/v1/leads", func(*http.Request) (*http.Response, error) {
		return jsonResponse(200, golden(t, "responses/leads.json")), nil
	})
	mt.RegisterResponder(http.MethodPost, base+"/api/v1/contacts", func(*http.Request) (*http.Response, error) {
		return jsonResponse(201, `{"id":"c"}`), nil
	})
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for range 20 {
				_, err := c.Leads.List(context.Background())
				assert.NoError(t, err)
				_, err = c.Contacts.Create(context.Background(), &blueclerk.CreateContactParams{Name: "x"})
				assert.NoError(t, err)
				_ = c.RateLimit()
			}
		})
	}
	wg.Wait()
	assert.Equal(t, 16*20*2, mt.GetTotalCallCount())
}
