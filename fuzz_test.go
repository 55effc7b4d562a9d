package blueclerk_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/blueclerk/blueclerk-go"
)

// roundTripFunc adapts a function to http.RoundTripper.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// FuzzResponse feeds arbitrary status, content type and body to every
// decoding path. Nothing may panic, and an answer is either decoded or an
// error, never both.
func FuzzResponse(f *testing.F) {
	seeds := []struct {
		status int
		ct     string
		body   string
	}{
		{200, "application/json", `{"tickets":[{"id":"t","createdAt":"2024-01-15T10:30:00Z"}]}`},
		{200, "application/json", `{"tickets":[{"id":"t","lineItems":[{"quantity":1e400,"unitPrice":"x"}]}]}`},
		{201, "application/json", `{"ticket":{"id":"t"}}`},
		{201, "", `{"id":"t","dueDate":"2024-02-30"}`},
		{401, "", `{"error":{"code":7}}`},
		{429, "application/json", `{"error":"rate_limited"}`},
		{502, "text/html", `<html>`},
		{200, "application/json; charset=utf-8", `{"tickets":[`},
	}
	for _, s := range seeds {
		f.Add(s.status, s.ct, s.body)
	}
	f.Fuzz(func(t *testing.T, status int, ct, body string) {
		if status < 100 || status > 999 {
			return
		}
		hc := &http.Client{Transport: roundTripFunc(func(req *http.Request) (*http.Response, error) {
			h := http.Header{}
			if ct != "" {
				h.Set("Content-Type", ct)
			}
			return &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(strings.NewReader(body)), Request: req}, nil
		})}
		c, err := blueclerk.NewClient(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: testToken}),
			blueclerk.WithHTTPClient(hc), blueclerk.WithMaxRetries(0))
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		if got, err := c.Tickets.List(ctx); (err == nil) == (got == nil) {
			t.Fatalf("List: got %v and err %v", got, err)
		}
		for v, err := range c.Invoices.All(ctx) {
			if (err == nil) == (v == nil) {
				t.Fatalf("All: got %v and err %v", v, err)
			}
		}
		got, err := c.Estimates.Create(ctx, &blueclerk.CreateEstimateParams{CustomerID: "c",
			LineItems: []blueclerk.EstimateLineItem{{Quantity: decimalOf("1")}}})
		if (err == nil) == (got == nil) {
			t.Fatalf("Create: got %v and err %v", got, err)
		}
		if err != nil && strings.Contains(err.Error(), testToken) {
			t.Fatalf("token in error: %v", err)
		}
	})
}
