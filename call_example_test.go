package blueclerk_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"

	"golang.org/x/oauth2"

	"github.com/blueclerk/blueclerk-go"
	"github.com/blueclerk/blueclerk-go/blueclerktest"
)

// A write whose answer was lost may have happened. Keep the key it went out
// with (from the Response, or from the error) and repeat the write with the
// same key where the API honours keys: the server answers with the record
// it already made instead of making a second one. Where the API does not
// honour keys, look the record up instead of repeating the write.
func ExampleWithIdempotencyKey() {
	srv := blueclerktest.NewServer()
	defer srv.Close()
	c, err := blueclerk.NewClient(oauth2.StaticTokenSource(srv.IssueToken()), blueclerk.WithBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	params := &blueclerk.CreateInvoiceParams{
		CustomerID: "cust_123",
		LineItems:  []blueclerk.InvoiceLineItem{{ItemID: "item_456", Quantity: dec("2"), UnitPrice: dec("150.00")}},
		DueDate:    blueclerk.Date{Year: 2024, Month: 2, Day: 1},
	}

	// The server stores the invoice, then the connection drops.
	srv.InjectFault(http.MethodPost, "/api/v1/invoices", blueclerktest.Fault{Kind: blueclerktest.FaultDropResponse})
	var resp blueclerk.Response
	_, err = c.Invoices.Create(ctx, params, blueclerk.WithResponseInto(&resp))
	fmt.Println("outcome unknown:", errors.Is(err, blueclerk.ErrOutcomeUnknown))

	// Repeat it with the key it first went out with (persist the key with
	// the order to do this after a restart).
	inv, err := c.Invoices.Create(ctx, params, blueclerk.WithIdempotencyKey(resp.IdempotencyKey))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("invoices stored:", len(srv.Invoices()), "same invoice:", inv.ID == srv.Invoices()[0].ID)
	// Output:
	// outcome unknown: true
	// invoices stored: 1 same invoice: true
}

// Do reaches an endpoint this SDK does not know yet with the client's
// token, budget, retries and errors.
func ExampleClient_Do() {
	srv := blueclerktest.NewServer()
	defer srv.Close()
	c, err := blueclerk.NewClient(oauth2.StaticTokenSource(srv.IssueToken()), blueclerk.WithBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}
	var page struct {
		Leads []struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"leads"`
	}
	var resp blueclerk.Response
	err = c.Do(context.Background(), http.MethodGet, "/api/v1/leads", nil, &page, blueclerk.WithResponseInto(&resp))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.StatusCode, len(page.Leads) > 0)

	// A raw answer, for a body of unknown shape.
	var raw json.RawMessage
	err = c.Do(context.Background(), http.MethodGet, "/api/v1/leads", nil, &raw)
	fmt.Println(err == nil && json.Valid(raw))
	// Output:
	// 200 true
	// true
}
