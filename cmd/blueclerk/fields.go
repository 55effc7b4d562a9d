package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	blueclerk "github.com/blueclerk/blueclerk-go"
)

// field is a create flag that sets one member of the params P.
type field[P any] struct {
	flag  string // the flag's name
	json  string // the member's name in the body, as the API's errors name it
	usage string
	// set sets the member from the flag's value; setAll instead takes
	// every value of a repeatable flag.
	set    func(p *P, v string) error
	setAll func(p *P, vs []string) error
}

// text is a field holding a string.
func text[P any, S ~string](flag, json, usage string, dst func(*P) *S) field[P] {
	return field[P]{flag: flag, json: json, usage: usage, set: func(p *P, v string) error {
		*dst(p) = S(v)
		return nil
	}}
}

// lineItems is a repeatable field of line items, each given as
// "QUANTITY,UNIT_PRICE,LAST", where LAST (a description or an item ID; it
// may hold commas) is what item's last argument takes, and example is one
// such value.
func lineItems[P, L any](last, example string, dst func(*P) *[]L, item func(q, price decimal.Decimal, last string) L) field[P] {
	format := "QUANTITY,UNIT_PRICE," + last
	usage := "a line item as " + format + ", such as " + example + "; repeatable (at least one)"
	return field[P]{flag: "line-item", json: "lineItems", usage: usage, setAll: func(p *P, vs []string) error {
		items := make([]L, 0, len(vs))
		for _, v := range vs {
			parts := strings.SplitN(v, ",", 3)
			if len(parts) != 3 {
				return fmt.Errorf("%q: want %s, such as %s", v, format, example)
			}
			q, err1 := decimal.NewFromString(strings.TrimSpace(parts[0]))
			price, err2 := decimal.NewFromString(strings.TrimSpace(parts[1]))
			if err1 != nil || err2 != nil {
				return fmt.Errorf("%q: the quantity and the unit price must be decimal numbers, such as 1.5,75.00", v)
			}
			items = append(items, item(q, price, parts[2]))
		}
		*dst(p) = items
		return nil
	}}
}

var ticketFields = []field[blueclerk.CreateTicketParams]{
	text("customer-id", "customerId", "the customer's ID (required)",
		func(p *blueclerk.CreateTicketParams) *string { return &p.CustomerID }),
	text("property-id", "propertyId", "the property's ID",
		func(p *blueclerk.CreateTicketParams) *string { return &p.PropertyID }),
	text("description", "description", "what is wrong (required)",
		func(p *blueclerk.CreateTicketParams) *string { return &p.Description }),
	text("priority", "priority", "low, medium, high or urgent",
		func(p *blueclerk.CreateTicketParams) *blueclerk.Priority { return &p.Priority }),
}

var jobFields = []field[blueclerk.CreateJobParams]{
	text("ticket-id", "ticketId", "the ticket's ID (required)",
		func(p *blueclerk.CreateJobParams) *string { return &p.TicketID }),
	{flag: "scheduled-date", json: "scheduledDate", usage: "when, as RFC 3339 such as 2024-01-20T14:00:00Z (required)",
		set: func(p *blueclerk.CreateJobParams, v string) error {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return fmt.Errorf("%q: want RFC 3339, such as 2024-01-20T14:00:00Z", v)
			}
			p.ScheduledDate = t
			return nil
		}},
	text("assigned-to", "assignedTo", "the user's ID",
		func(p *blueclerk.CreateJobParams) *string { return &p.AssignedTo }),
}

var propertyFields = []field[blueclerk.CreatePropertyParams]{
	text("address", "address", "street address (required)",
		func(p *blueclerk.CreatePropertyParams) *string { return &p.Address }),
	text("city", "city", "city (required)",
		func(p *blueclerk.CreatePropertyParams) *string { return &p.City }),
	text("state", "state", "state (required)",
		func(p *blueclerk.CreatePropertyParams) *string { return &p.State }),
	text("zip", "zip", "ZIP code (required)",
		func(p *blueclerk.CreatePropertyParams) *string { return &p.Zip }),
	text("owner-id", "ownerId", "the owner's ID",
		func(p *blueclerk.CreatePropertyParams) *string { return &p.OwnerID }),
}

var estimateFields = []field[blueclerk.CreateEstimateParams]{
	text("customer-id", "customerId", "the customer's ID (required)",
		func(p *blueclerk.CreateEstimateParams) *string { return &p.CustomerID }),
	lineItems("DESCRIPTION", "2,75.00,Labor",
		func(p *blueclerk.CreateEstimateParams) *[]blueclerk.EstimateLineItem { return &p.LineItems },
		func(q, price decimal.Decimal, desc string) blueclerk.EstimateLineItem {
			return blueclerk.EstimateLineItem{Description: desc, Quantity: q, UnitPrice: price}
		}),
}

var invoiceFields = []field[blueclerk.CreateInvoiceParams]{
	text("customer-id", "customerId", "the customer's ID (required)",
		func(p *blueclerk.CreateInvoiceParams) *string { return &p.CustomerID }),
	lineItems("ITEM_ID", "1,150.00,item_456",
		func(p *blueclerk.CreateInvoiceParams) *[]blueclerk.InvoiceLineItem { return &p.LineItems },
		func(q, price decimal.Decimal, item string) blueclerk.InvoiceLineItem {
			return blueclerk.InvoiceLineItem{ItemID: item, Quantity: q, UnitPrice: price}
		}),
	{flag: "due-date", json: "dueDate", usage: "the due date, such as 2024-02-01 (required)",
		set: func(p *blueclerk.CreateInvoiceParams, v string) error {
			d, err := blueclerk.ParseDate(v)
			if err != nil {
				return err
			}
			p.DueDate = d
			return nil
		}},
}

var contactFields = []field[blueclerk.CreateContactParams]{
	text("name", "name", "the contact's name (required)",
		func(p *blueclerk.CreateContactParams) *string { return &p.Name }),
	text("email", "email", "email address",
		func(p *blueclerk.CreateContactParams) *string { return &p.Email }),
	text("phone", "phone", "phone number",
		func(p *blueclerk.CreateContactParams) *string { return &p.Phone }),
	text("company-id", "companyId", "the company's ID",
		func(p *blueclerk.CreateContactParams) *string { return &p.CompanyID }),
}
