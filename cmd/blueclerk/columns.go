package main

import (
	"strconv"
	"time"

	"github.com/shopspring/decimal"

	blueclerk "github.com/blueclerk/blueclerk-go"
)

// column is one column of a resource's table: a header, the widths it may
// take, and the cell of a record.
type column[T any] struct {
	header   string
	min, max int // in characters; min is at least len(header)
	cell     func(*T) string
}

// specs returns the columns' headers and widths.
func specs[T any](cols []column[T]) []colSpec {
	out := make([]colSpec, len(cols))
	for i, c := range cols {
		out[i] = colSpec{c.header, c.min, c.max}
	}
	return out
}

// stamp renders a time in RFC 3339 in UTC, or nothing for the zero time.
func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// total is the sum of quantity × unit price over line items.
func total[L any](items []L, amounts func(L) (q, price decimal.Decimal)) string {
	var sum decimal.Decimal
	for _, li := range items {
		q, p := amounts(li)
		sum = sum.Add(q.Mul(p))
	}
	return sum.StringFixed(2)
}

// idColumn and createdColumn are columns every table has, or most.
func idColumn[T any](id func(*T) string) column[T] { return column[T]{"ID", 10, 24, id} }

func createdColumn[T any](at func(*T) time.Time) column[T] {
	return column[T]{"CREATED", 20, 20, func(r *T) string { return stamp(at(r)) }}
}

var leadColumns = []column[blueclerk.Lead]{
	idColumn(func(l *blueclerk.Lead) string { return l.ID }),
	{"NAME", 8, 24, func(l *blueclerk.Lead) string { return l.Name }},
	{"EMAIL", 8, 32, func(l *blueclerk.Lead) string { return l.Email }},
	{"PHONE", 8, 16, func(l *blueclerk.Lead) string { return l.Phone }},
	{"STATUS", 6, 12, func(l *blueclerk.Lead) string { return string(l.Status) }},
	createdColumn(func(l *blueclerk.Lead) time.Time { return l.CreatedAt }),
}

var ticketColumns = []column[blueclerk.Ticket]{
	idColumn(func(t *blueclerk.Ticket) string { return t.ID }),
	{"CUSTOMER", 8, 16, func(t *blueclerk.Ticket) string { return t.CustomerID }},
	{"PRIORITY", 8, 8, func(t *blueclerk.Ticket) string { return string(t.Priority) }},
	{"STATUS", 6, 12, func(t *blueclerk.Ticket) string { return string(t.Status) }},
	createdColumn(func(t *blueclerk.Ticket) time.Time { return t.CreatedAt }),
	{"DESCRIPTION", 11, 60, func(t *blueclerk.Ticket) string { return t.Description }},
}

var jobColumns = []column[blueclerk.Job]{
	idColumn(func(j *blueclerk.Job) string { return j.ID }),
	{"TICKET", 8, 16, func(j *blueclerk.Job) string { return j.TicketID }},
	{"SCHEDULED", 20, 20, func(j *blueclerk.Job) string { return stamp(j.ScheduledDate) }},
	{"ASSIGNED TO", 11, 16, func(j *blueclerk.Job) string { return j.AssignedTo }},
	{"STATUS", 6, 12, func(j *blueclerk.Job) string { return string(j.Status) }},
	createdColumn(func(j *blueclerk.Job) time.Time { return j.CreatedAt }),
}

var propertyColumns = []column[blueclerk.Property]{
	idColumn(func(p *blueclerk.Property) string { return p.ID }),
	{"ADDRESS", 10, 40, func(p *blueclerk.Property) string { return p.Address }},
	{"CITY", 6, 20, func(p *blueclerk.Property) string { return p.City }},
	{"STATE", 5, 6, func(p *blueclerk.Property) string { return p.State }},
	{"ZIP", 5, 10, func(p *blueclerk.Property) string { return p.Zip }},
	{"OWNER", 8, 16, func(p *blueclerk.Property) string { return p.OwnerID }},
}

func estimateAmounts(li blueclerk.EstimateLineItem) (decimal.Decimal, decimal.Decimal) {
	return li.Quantity, li.UnitPrice
}

func invoiceAmounts(li blueclerk.InvoiceLineItem) (decimal.Decimal, decimal.Decimal) {
	return li.Quantity, li.UnitPrice
}

var estimateColumns = []column[blueclerk.Estimate]{
	idColumn(func(e *blueclerk.Estimate) string { return e.ID }),
	{"CUSTOMER", 8, 16, func(e *blueclerk.Estimate) string { return e.CustomerID }},
	{"LINES", 5, 5, func(e *blueclerk.Estimate) string { return strconv.Itoa(len(e.LineItems)) }},
	{"TOTAL", 8, 14, func(e *blueclerk.Estimate) string { return total(e.LineItems, estimateAmounts) }},
	{"STATUS", 6, 12, func(e *blueclerk.Estimate) string { return string(e.Status) }},
	createdColumn(func(e *blueclerk.Estimate) time.Time { return e.CreatedAt }),
}

var invoiceColumns = []column[blueclerk.Invoice]{
	idColumn(func(in *blueclerk.Invoice) string { return in.ID }),
	{"CUSTOMER", 8, 16, func(in *blueclerk.Invoice) string { return in.CustomerID }},
	{"LINES", 5, 5, func(in *blueclerk.Invoice) string { return strconv.Itoa(len(in.LineItems)) }},
	{"TOTAL", 8, 14, func(in *blueclerk.Invoice) string { return total(in.LineItems, invoiceAmounts) }},
	{"DUE", 10, 10, func(in *blueclerk.Invoice) string {
		if in.DueDate.IsZero() {
			return ""
		}
		return in.DueDate.String()
	}},
	{"STATUS", 6, 12, func(in *blueclerk.Invoice) string { return string(in.Status) }},
	createdColumn(func(in *blueclerk.Invoice) time.Time { return in.CreatedAt }),
}

var contactColumns = []column[blueclerk.Contact]{
	idColumn(func(c *blueclerk.Contact) string { return c.ID }),
	{"NAME", 8, 24, func(c *blueclerk.Contact) string { return c.Name }},
	{"EMAIL", 8, 32, func(c *blueclerk.Contact) string { return c.Email }},
	{"PHONE", 8, 16, func(c *blueclerk.Contact) string { return c.Phone }},
	{"COMPANY", 8, 16, func(c *blueclerk.Contact) string { return c.CompanyID }},
}
