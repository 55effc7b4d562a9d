package blueclerk

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"time"

	"github.com/shopspring/decimal"
)

// InvoiceStatus is where an invoice stands. Values the server sends that
// are not listed here are kept as they are.
type InvoiceStatus string

// Invoice statuses.
const (
	InvoiceStatusDraft   InvoiceStatus = "draft"
	InvoiceStatusSent    InvoiceStatus = "sent"
	InvoiceStatusPaid    InvoiceStatus = "paid"
	InvoiceStatusOverdue InvoiceStatus = "overdue"
	InvoiceStatusVoid    InvoiceStatus = "void"
)

// Invoice is a bill to a customer, line by line.
type Invoice struct {
	ID         string            `json:"id"`
	CustomerID string            `json:"customerId"`
	LineItems  []InvoiceLineItem `json:"lineItems"`
	DueDate    Date              `json:"dueDate,omitzero"`
	Status     InvoiceStatus     `json:"status,omitempty"`
	CreatedAt  time.Time         `json:"createdAt,omitzero"`
}

// InvoiceLineItem is one line of an invoice. Quantity and UnitPrice are
// exact decimals, sent as JSON numbers.
type InvoiceLineItem struct {
	ItemID    string          `json:"itemId"`
	Quantity  decimal.Decimal `json:"quantity"`
	UnitPrice decimal.Decimal `json:"unitPrice"`
}

// MarshalJSON writes Quantity and UnitPrice as JSON numbers, whatever the
// decimal package's global settings.
func (li InvoiceLineItem) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		ItemID    string      `json:"itemId"`
		Quantity  json.Number `json:"quantity"`
		UnitPrice json.Number `json:"unitPrice"`
	}{li.ItemID, number(li.Quantity), number(li.UnitPrice)})
}

// CreateInvoiceParams is the body of POST /api/v1/invoices. CustomerID, at
// least one line item and DueDate are required; every quantity must be
// greater than 0 and every unit price at least 0.
type CreateInvoiceParams struct {
	CustomerID string            `json:"customerId"`
	LineItems  []InvoiceLineItem `json:"lineItems"`
	DueDate    Date              `json:"dueDate"`
}

func (p *CreateInvoiceParams) validate() error {
	switch {
	case p == nil:
		return invalidf("nil *CreateInvoiceParams")
	case p.CustomerID == "":
		return invalidf("invoice customerId is required")
	case len(p.LineItems) == 0:
		return invalidf("invoice lineItems needs at least one line item")
	case p.DueDate.IsZero():
		return invalidf("invoice dueDate is required")
	case !p.DueDate.valid():
		return invalidf("invoice dueDate %s is not a calendar date", p.DueDate)
	}
	for i, li := range p.LineItems {
		if err := checkAmounts("invoice", i, li.Quantity, li.UnitPrice); err != nil {
			return err
		}
	}
	return nil
}

// InvoicesService reaches /api/v1/invoices. Reading needs the
// invoices.read scope, creating invoices.write.
type InvoicesService service

// List returns every invoice of the authenticated company (GET
// /api/v1/invoices), following pages when the server sends them.
func (s *InvoicesService) List(ctx context.Context, opts ...CallOption) ([]*Invoice, error) {
	return list[Invoice](ctx, s.client, apiPrefix+"/invoices", "invoices", opts)
}

// All yields the company's invoices one at a time (GET /api/v1/invoices);
// see [LeadsService.All].
func (s *InvoicesService) All(ctx context.Context, opts ...CallOption) iter.Seq2[*Invoice, error] {
	return all[Invoice](ctx, s.client, apiPrefix+"/invoices", "invoices", opts)
}

// Create creates an invoice (POST /api/v1/invoices) and returns it as
// stored. Invalid params fail with [ErrInvalidRequest] before anything is
// sent. A lost answer fails with [ErrOutcomeUnknown]: the invoice may exist,
// so check before billing the customer twice.
func (s *InvoicesService) Create(ctx context.Context, p *CreateInvoiceParams, opts ...CallOption) (*Invoice, error) {
	return create[Invoice](ctx, s.client, apiPrefix+"/invoices", "invoice", p, opts)
}

// Date is a calendar date with no time of day or zone, "2024-02-01" on the
// wire. The zero Date is "no date".
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf returns the calendar date of t in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

// ParseDate parses a date in the form "2006-01-02".
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("blueclerk: date %q: want YYYY-MM-DD", s)
	}
	return DateOf(t), nil
}

// String returns the date as "2006-01-02".
func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day) }

// IsZero reports whether d is the zero Date.
func (d Date) IsZero() bool { return d == Date{} }

// In returns the time d begins in loc.
func (d Date) In(loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc)
}

// valid reports whether d names a real day of a four-digit year.
func (d Date) valid() bool {
	return d.Year >= 0 && d.Year <= 9999 && DateOf(d.In(time.UTC)) == d
}

// MarshalText returns the date as "2006-01-02". It fails for a date that is
// not a real calendar day, such as February 30.
func (d Date) MarshalText() ([]byte, error) {
	if !d.valid() {
		return nil, fmt.Errorf("blueclerk: %s is not a calendar date", d)
	}
	return []byte(d.String()), nil
}

// UnmarshalText parses a date in the form "2006-01-02"; an empty string is
// the zero Date.
func (d *Date) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*d = Date{}
		return nil
	}
	v, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

func (i *Invoice) objectID() string { return i.ID }
