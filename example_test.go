package blueclerk_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/shopspring/decimal"
	"golang.org/x/oauth2"

	"github.com/blueclerk/blueclerk-go"
)

// exampleServer stands in for the API in these examples.
func exampleServer() *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/leads", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"leads":[{"id":"lead_123","name":"John Smith","status":"new"},{"id":"lead_124","name":"Ann Lee","status":"contacted"}]}`)
	})
	mux.HandleFunc("POST /api/v1/invoices", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		fmt.Fprint(w, `{"id":"inv_1","customerId":"cust_123","lineItems":[{"itemId":"item_456","quantity":2,"unitPrice":150.00}],"dueDate":"2024-02-01","status":"draft"}`)
	})
	mux.HandleFunc("GET /api/v1/tickets", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("WWW-Authenticate", `Bearer error="insufficient_scope", scope="tickets.read"`)
		w.WriteHeader(http.StatusForbidden)
	})
	return httptest.NewServer(mux)
}

func ExampleNewClient() {
	srv := exampleServer()
	defer srv.Close()

	// In production the token source comes from LoopbackLogin,
	// PersistentTokenSource or ClientCredentialsTokenSource.
	ts := oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "access-token"})
	c, err := blueclerk.NewClient(ts, blueclerk.WithBaseURL(srv.URL), blueclerk.WithPlan(blueclerk.PlanPro))
	if err != nil {
		log.Fatal(err)
	}
	leads, err := c.Leads.List(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	for _, l := range leads {
		fmt.Println(l.ID, l.Name, l.Status)
	}
	// Output:
	// lead_123 John Smith new
	// lead_124 Ann Lee contacted
}

func ExampleLeadsService_All() {
	srv := exampleServer()
	defer srv.Close()
	c, _ := blueclerk.NewClient(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "t"}), blueclerk.WithBaseURL(srv.URL))

	// All decodes one lead at a time: memory stays flat however long the
	// list, and breaking out stops the download.
	for lead, err := range c.Leads.All(context.Background()) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(lead.ID)
		break
	}
	// Output: lead_123
}

func ExampleInvoicesService_Create() {
	srv := exampleServer()
	defer srv.Close()
	c, _ := blueclerk.NewClient(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "t"}), blueclerk.WithBaseURL(srv.URL))

	inv, err := c.Invoices.Create(context.Background(), &blueclerk.CreateInvoiceParams{
		CustomerID: "cust_123",
		LineItems: []blueclerk.InvoiceLineItem{{
			ItemID:    "item_456",
			Quantity:  decimal.NewFromInt(2),
			UnitPrice: decimal.RequireFromString("150.00"),
		}},
		DueDate: blueclerk.DateOf(time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC)),
	})
	switch {
	case errors.Is(err, blueclerk.ErrOutcomeUnknown):
		// The answer was lost: the invoice may exist. Look before billing twice.
		log.Fatal(err)
	case err != nil:
		log.Fatal(err)
	}
	total := decimal.Zero
	for _, li := range inv.LineItems {
		total = total.Add(li.Quantity.Mul(li.UnitPrice))
	}
	fmt.Println(inv.ID, inv.DueDate, total.StringFixed(2))
	// Output: inv_1 2024-02-01 300.00
}

func ExampleError() {
	srv := exampleServer()
	defer srv.Close()
	c, _ := blueclerk.NewClient(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "t"}), blueclerk.WithBaseURL(srv.URL))

	_, err := c.Tickets.List(context.Background())
	var apiErr *blueclerk.Error
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.StatusCode, apiErr.Code)
	}
	fmt.Println(errors.Is(err, blueclerk.ErrInsufficientScope), errors.Is(err, blueclerk.ErrForbidden))
	// Output:
	// 403 insufficient_scope
	// true true
}
