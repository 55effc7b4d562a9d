package blueclerk_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/blueclerk/blueclerk-go"
)

// registerPages serves /api/v1/tickets as pages of ids, each linking to the
// next with the given Link value (%d is the next page number).
func registerPages(mt *httpmock.MockTransport, pages [][]string, link string) {
	for i, ids := range pages {
		var objs []string
		for _, id := range ids {
			objs = append(objs, `{"id":"`+id+`"}`)
		}
		resp := jsonResponse(200, `{"tickets":[`+strings.Join(objs, ",")+`]}`)
		if i+1 < len(pages) {
			resp.Header.Set("Link", fmt.Sprintf(link, i+2))
		}
		u := base + "/api/v1/tickets"
		if i > 0 {
			u += fmt.Sprintf("?page=%d", i+1)
		}
		mt.RegisterResponder(http.MethodGet, u, httpmock.ResponderFromResponse(resp))
	}
}

func ids(ts []*blueclerk.Ticket) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.ID)
	}
	return out
}

func TestPagingFollowsLinkNext(t *testing.T) {
	pages := [][]string{{"a", "b"}, {"c"}, {}, {"d", "e"}}
	links := map[string]string{
		"relative":       `</api/v1/tickets?page=%d>; rel="next"`,
		"absolute":       `<` + base + `/api/v1/tickets?page=%d>; rel="next"`,
		"several":        `<` + base + `/api/v1/tickets?page=1>; rel="prev", <` + base + `/api/v1/tickets?page=%d>; rel="next last"`,
		"unquoted rel":   `</api/v1/tickets?page=%d>; rel=next`,
		"extra params":   `</api/v1/tickets?page=%d>; title="a, b; c"; rel="next"`,
		"other rel case": `</api/v1/tickets?page=%d>; REL="Next"`,
	}
	for name, link := range links {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, mt := setup(t)
			registerPages(mt, pages, link)
			got, err := c.Tickets.List(context.Background())
			require.NoError(t, err)
			assert.Equal(t, []string{"a", "b", "c", "d", "e"}, ids(got))
			got, err = collect(c.Tickets.All(context.Background()))
			require.NoError(t, err)
			assert.Equal(t, []string{"a", "b", "c", "d", "e"}, ids(got))
			assert.Equal(t, 8, mt.GetTotalCallCount())
		})
	}
}

func TestPagingRefusesOtherHostsAndLoops(t *testing.T) {
	tests := map[string]string{
		"other host":   `<https://evil.example.com/api/v1/tickets?page=%d>; rel="next"`,
		"plain http":   `<http://api.blueclerk.com/api/v1/tickets?page=%d>; rel="next"`,
		"loop to self": `</api/v1/tickets?x=%d>; rel="next"`,
	}
	for name, link := range tests {
		t.Run(name, func(t *testing.T) {
			c, mt := setup(t)
			registerPages(mt, [][]string{{"a"}, {"b"}}, link)
			mt.RegisterResponder(http.MethodGet, base+"/api/v1/tickets?x=2", httpmock.ResponderFromResponse(
				func() *http.Response {
					r := jsonResponse(200, `{"tickets":[{"id":"b"}]}`)
					r.Header.Set("Link", `</api/v1/tickets?x=2>; rel="next"`)
					return r
				}()))
			got, err := c.Tickets.List(context.Background())
			require.ErrorIs(t, err, blueclerk.ErrMalformedResponse)
			assert.Nil(t, got)
			assert.NotContains(t, err.Error(), testToken)
			assert.Zero(t, mt.GetCallCountInfo()["GET https://evil.example.com/api/v1/tickets?page=2"])
		})
	}
}

// countingBody is an endless stream of tickets that counts what was read.
type countingBody struct {
	r      io.Reader
	read   int
	closed bool
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.read += n
	return n, err
}

func (b *countingBody) Close() error { b.closed = true; return nil }

// endlessTickets yields {"tickets":[{…},{…},… without end.
type endlessTickets struct {
	started bool
	n       int
	buf     []byte
}

func (e *endlessTickets) Read(p []byte) (int, error) {
	if len(e.buf) == 0 {
		if !e.started {
			e.buf = []byte(`{"tickets":[`)
			e.started = true
		} else {
			e.buf = fmt.Appendf(nil, `{"id":"t%d","description":"%s"},`, e.n, strings.Repeat("x", 200))
			e.n++
		}
	}
	n := copy(p, e.buf)
	e.buf = e.buf[n:]
	return n, nil
}

func TestAllStopsEarlyWithoutReadingTheRest(t *testing.T) {
	c, mt := setup(t)
	body := &countingBody{r: &endlessTickets{}}
	mt.RegisterResponder(http.MethodGet, base+"/api/v1/tickets", func(*http.Request) (*http.Response, error) {
		resp := jsonResponse(200, "")
		resp.Body = body
		return resp, nil
	})
	seen := 0
	for tk, err := range c.Tickets.All(context.Background()) {
		require.NoError(t, err)
		require.Equal(t, fmt.Sprintf("t%d", seen), tk.ID)
		seen++
		if seen == 3 {
			break
		}
	}
	assert.Equal(t, 3, seen)
	assert.True(t, body.closed, "the body must be closed after an early break")
	assert.Less(t, body.read, 16<<10, "stopping early must not download the rest")
}

func TestValidationSendsNothing(t *testing.T) {
	pos := decimalOf("1")
	tests := []struct {
		name  string
		call  func(context.Context, *blueclerk.Client) error
		field string
	}{
		{"nil ticket", func(ctx context.Context, c *blueclerk.Client) error {
			_, err := c.Tickets.Create(ctx, nil)
			return err
		}, "CreateTicketParams"},
		{"ticket customerId", func(ctx context.Context, c *blueclerk.Client) error {
			_, err := c.Tickets.Create(ctx, &blueclerk.CreateTicketParams{Description: "d"})
			return err
		}, "customerId"},
		{"ticket description", func(ctx context.Context, c *blueclerk.Client) error {
			_, err := c.Tickets.Create(ctx, &blueclerk.CreateTicketParams{CustomerID: "c"})
			return err
		}, "description"},
		{"nil job", func(ctx context.Context, c *blueclerk.Client) error {
			_, err := c.Jobs.Create(ctx, nil)
			return err
		}, "CreateJobParams"},
		{"job ticketId", func(ctx context.Context, c *blueclerk.Client) error {
			_, err := c.Jobs.Create(ctx, &blueclerk.CreateJobParams{ScheduledDate: created})
			return err
		}, "ticketId"},
		{"job scheduledDate", func(ctx context.Context, c *blueclerk.Client) error {
			_, err := c.Jobs.Create(ctx, &blueclerk.CreateJobParams{TicketID: "t"})
			return err
		}, "scheduledDate"},
		{"property address", func(ctx context.Context, c *blueclerk.Client) error {
			_, err := c.Properties.Create(ctx, &blueclerk.CreatePropertyParams{City: "c", State: "s", Zip: "z"})
			return err
		}, "address"},
		{"property city", func(ctx context.Context, c *blueclerk.Client) error {
			_, err := c.Properties.Create(ctx, &blueclerk.CreatePropertyParams{Address: "a", State: "s", Zip: "z"})
			return err
		}, "city"},
		{"property state", func(ctx context.Context, c *blueclerk.Client) error {
			_, err := c.Properties.Create(ctx, &blueclerk.CreatePropertyParams{Address: "a", City: "c", Zip: "z"})
			return err
		}, "state"},
		{"property zip", func(ctx context.Context, c *blueclerk.Client) error {
			_, err := c.Properties.Create(ctx, &blueclerk.CreatePropertyParams{Address: "a", City: "c", State: "s"})
			return err
		}, "zip"},
		{"nil property", func(ctx context.Context, c *blueclerk.Client) error {
			_, err := c.Properties.Create(ctx, nil)
			return err
		}, "CreatePropertyParams"},
		{"estimate customerId", func(ctx context.Context, c *blueclerk.Client) error {
			_, err := c.Estimates.Create(ctx, &blueclerk.CreateEstimateParams{
				LineItems: []blueclerk.EstimateLineItem{{Quantity: pos}}})
			return err
		}, "customerId"},
		{"estimate no line items", func(ctx context.Context, c *blueclerk.Client) error {
			_, err := c.Estimates.Create(ctx, &blueclerk.CreateEstimateParams{CustomerID: "c"})
			return err
		}, "lineItems"},
		{"estimate zero quantity", func(ctx context.Context, c *blueclerk.Client) error {
			_, err := c.Estimates.Create(ctx, &blueclerk.CreateEstimateParams{CustomerID: "c",
				LineItems: []blueclerk.EstimateLineItem{{Quantity: pos}, {}}})
			return err
		}, "lineItems[1].quantity"},
		{"estimate negative price", func(ctx context.Context, c *blueclerk.Client) error {
			_, err := c.Estimates.Create(ctx, &blueclerk.CreateEstimateParams{CustomerID: "c",
				LineItems: []blueclerk.EstimateLineItem{{Quantity: pos, UnitPrice: decimalOf("-0.01")}}})
			return err
		}, "lineItems[0].unitPrice"},
		{"nil estimate", func(ctx context.Context, c *blueclerk.Client) error {
			_, err := c.Estimates.Create(ctx, nil)
			return err
		}, "CreateEstimateParams"},
		{"invoice customerId", func(ctx context.Context, c *blueclerk.Client) error {
			_, err := c.Invoices.Create(ctx, &blueclerk.CreateInvoiceParams{
				LineItems: []blueclerk.InvoiceLineItem{{Quantity: pos}}, DueDate: blueclerk.Date{Year: 2024, Month: 2, Day: 1}})
			return err
		}, "customerId"},
		{"invoice no line items", func(ctx context.Context, c *blueclerk.Client) error {
			_, err := c.Invoices.Create(ctx, &blueclerk.CreateInvoiceParams{CustomerID: "c",
				DueDate: blueclerk.Date{Year: 2024, Month: 2, Day: 1}})
			return err
		}, "lineItems"},
		{"invoice dueDate", func(ctx context.Context, c *blueclerk.Client) error {
			_, err := c.Invoices.Create(ctx, &blueclerk.CreateInvoiceParams{CustomerID: "c",
				LineItems: []blueclerk.InvoiceLineItem{{Quantity: pos}}})
			return err
		}, "dueDate"},
		{"invoice impossible dueDate", func(ctx context.Context, c *blueclerk.Client) error {
			_, err := c.Invoices.Create(ctx, &blueclerk.CreateInvoiceParams{CustomerID: "c",
				LineItems: []blueclerk.InvoiceLineItem{{Quantity: pos}}, DueDate: blueclerk.Date{Year: 2024, Month: 2, Day: 30}})
			return err
		}, "dueDate"},
		{"invoice negative quantity", func(ctx context.Context, c *blueclerk.Client) error {
			_, err := c.Invoices.Create(ctx, &blueclerk.CreateInvoiceParams{CustomerID: "c",
				LineItems: []blueclerk.InvoiceLineItem{{Quantity: decimalOf("-1")}}, DueDate: blueclerk.Date{Year: 2024, Month: 2, Day: 1}})
			return err
		}, "quantity"},
		{"nil invoice", func(ctx context.Context, c *blueclerk.Client) error {
			_, err := c.Invoices.Create(ctx, nil)
			return err
		}, "CreateInvoiceParams"},
		{"contact name", func(ctx context.Context, c *blueclerk.Client) error {
			_, err := c.Contacts.Create(ctx, &blueclerk.CreateContactParams{Email: "e"})
			return err
		}, "name"},
		{"nil contact", func(ctx context.Context, c *blueclerk.Client) error {
			_, err := c.Contacts.Create(ctx, nil)
			return err
		}, "CreateContactParams"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, mt := setup(t)
			err := tt.call(context.Background(), c)
			require.ErrorIs(t, err, blueclerk.ErrInvalidRequest)
			assert.Contains(t, err.Error(), tt.field)
			assert.Contains(t, err.Error(), "not sent")
			assert.Zero(t, mt.GetTotalCallCount(), "nothing may be sent")
		})
	}
}
