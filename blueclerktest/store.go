package blueclerktest

import (
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	blueclerk "github.com/blueclerk/blueclerk-go"
)

// company is one BlueClerk company: its plan, budget, replayable writes and
// records. A token belongs to one company.
type company struct {
	id     string
	plan   blueclerk.Plan
	budget budget
	idem   idempotency
	store  store
}

func newCompany(id string, plan blueclerk.Plan, hourlyLimit int) *company {
	c := &company{id: id, plan: plan}
	c.budget.limit = plan.HourlyLimit()
	if hourlyLimit > 0 {
		c.budget.limit = hourlyLimit
	}
	return c
}

// store holds a company's records in creation order.
type store struct {
	mu         sync.Mutex
	seq        map[string]int // ID prefix → last number used
	leads      []blueclerk.Lead
	tickets    []blueclerk.Ticket
	jobs       []blueclerk.Job
	properties []blueclerk.Property
	estimates  []blueclerk.Estimate
	invoices   []blueclerk.Invoice
	contacts   []blueclerk.Contact
}

// newID returns the next ID with prefix, such as "ticket_3". The caller
// holds st.mu.
func (st *store) newID(prefix string) string {
	if st.seq == nil {
		st.seq = make(map[string]int)
	}
	st.seq[prefix]++
	return prefix + "_" + strconv.Itoa(st.seq[prefix])
}

// stamp is the time a record is dated with: UTC, whole seconds.
func stamp(t time.Time) time.Time { return t.UTC().Truncate(time.Second) }

func (st *store) addLead(l blueclerk.Lead, now time.Time) blueclerk.Lead {
	st.mu.Lock()
	defer st.mu.Unlock()
	if l.ID == "" {
		l.ID = st.newID("lead")
	}
	if l.Status == "" {
		l.Status = blueclerk.LeadStatusNew
	}
	if l.CreatedAt.IsZero() {
		l.CreatedAt = stamp(now)
	}
	st.leads = append(st.leads, l)
	return l
}

func (st *store) addTicket(t blueclerk.Ticket, now time.Time) blueclerk.Ticket {
	st.mu.Lock()
	defer st.mu.Unlock()
	if t.ID == "" {
		t.ID = st.newID("ticket")
	}
	if t.Status == "" {
		t.Status = blueclerk.TicketStatusOpen
	}
	if t.CreatedAt.IsZero() {
		t.CreatedAt = stamp(now)
	}
	if t.UpdatedAt.IsZero() {
		t.UpdatedAt = t.CreatedAt
	}
	st.tickets = append(st.tickets, t)
	return t
}

func (st *store) addJob(j blueclerk.Job, now time.Time) blueclerk.Job {
	st.mu.Lock()
	defer st.mu.Unlock()
	if j.ID == "" {
		j.ID = st.newID("job")
	}
	if j.Status == "" {
		j.Status = blueclerk.JobStatusScheduled
	}
	if j.CreatedAt.IsZero() {
		j.CreatedAt = stamp(now)
	}
	st.jobs = append(st.jobs, j)
	return j
}

func (st *store) addProperty(p blueclerk.Property) blueclerk.Property {
	st.mu.Lock()
	defer st.mu.Unlock()
	if p.ID == "" {
		p.ID = st.newID("prop")
	}
	st.properties = append(st.properties, p)
	return p
}

func (st *store) addEstimate(e blueclerk.Estimate, now time.Time) blueclerk.Estimate {
	st.mu.Lock()
	defer st.mu.Unlock()
	if e.ID == "" {
		e.ID = st.newID("estimate")
	}
	if e.Status == "" {
		e.Status = blueclerk.EstimateStatusDraft
	}
	if e.CreatedAt.IsZero() {
		e.CreatedAt = stamp(now)
	}
	e.LineItems = slices.Clone(e.LineItems)
	st.estimates = append(st.estimates, e)
	return cloneEstimate(e)
}

func (st *store) addInvoice(in blueclerk.Invoice, now time.Time) blueclerk.Invoice {
	st.mu.Lock()
	defer st.mu.Unlock()
	if in.ID == "" {
		in.ID = st.newID("invoice")
	}
	if in.Status == "" {
		in.Status = blueclerk.InvoiceStatusDraft
	}
	if in.CreatedAt.IsZero() {
		in.CreatedAt = stamp(now)
	}
	in.LineItems = slices.Clone(in.LineItems)
	st.invoices = append(st.invoices, in)
	return cloneInvoice(in)
}

func (st *store) addContact(c blueclerk.Contact) blueclerk.Contact {
	st.mu.Lock()
	defer st.mu.Unlock()
	if c.ID == "" {
		c.ID = st.newID("contact")
	}
	st.contacts = append(st.contacts, c)
	return c
}

func cloneEstimate(e blueclerk.Estimate) blueclerk.Estimate {
	e.LineItems = slices.Clone(e.LineItems)
	return e
}

func cloneInvoice(in blueclerk.Invoice) blueclerk.Invoice {
	in.LineItems = slices.Clone(in.LineItems)
	return in
}

// addSampleLeads seeds the leads every new server holds.
func (st *store) addSampleLeads() {
	day := func(d, h int) time.Time { return time.Date(2024, time.January, d, h, 30, 0, 0, time.UTC) }
	for _, l := range []blueclerk.Lead{
		{Name: "John Smith", Email: "john@example.com", Phone: "555-1234", Status: blueclerk.LeadStatusNew, CreatedAt: day(15, 10)},
		{Name: "Maria Garcia", Email: "maria@example.com", Phone: "555-2345", Status: blueclerk.LeadStatusContacted, CreatedAt: day(16, 9)},
		{Name: "Wei Chen", Email: "wei@example.com", Phone: "555-3456", Status: blueclerk.LeadStatusQualified, CreatedAt: day(17, 14)},
	} {
		st.addLead(l, time.Time{})
	}
}

// snapshot returns a copy of the rows rows picks from st.
func snapshot[T any](st *store, rows func(*store) []T) []T {
	st.mu.Lock()
	defer st.mu.Unlock()
	out := slices.Clone(rows(st))
	if out == nil {
		out = []T{}
	}
	return out
}

// find returns the row with the given ID, or nil. The caller holds st.mu.
func find[T any](rows []T, id string, idOf func(*T) string) *T {
	for i := range rows {
		if idOf(&rows[i]) == id {
			return &rows[i]
		}
	}
	return nil
}

// apply records in st what event typ says happened to record id, and returns
// the record as it now is. Created events change nothing.
func (st *store) apply(typ blueclerk.EventType, id string, now time.Time) (any, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	missing := func(kind string) error {
		return fmt.Errorf("blueclerktest: Emit %s: no %s with id %q", typ, kind, id)
	}
	switch typ {
	case blueclerk.EventTicketCreated, blueclerk.EventTicketUpdated:
		t := find(st.tickets, id, func(t *blueclerk.Ticket) string { return t.ID })
		if t == nil {
			return nil, missing("ticket")
		}
		if typ == blueclerk.EventTicketUpdated {
			switch t.Status {
			case blueclerk.TicketStatusOpen:
				t.Status = blueclerk.TicketStatusInProgress
			case blueclerk.TicketStatusInProgress:
				t.Status = blueclerk.TicketStatusClosed
			}
			t.UpdatedAt = stamp(now)
		}
		return *t, nil
	case blueclerk.EventJobCreated, blueclerk.EventJobCompleted:
		j := find(st.jobs, id, func(j *blueclerk.Job) string { return j.ID })
		if j == nil {
			return nil, missing("job")
		}
		if typ == blueclerk.EventJobCompleted {
			j.Status = blueclerk.JobStatusCompleted
		}
		return *j, nil
	case blueclerk.EventInvoiceSent, blueclerk.EventInvoicePaid:
		in := find(st.invoices, id, func(in *blueclerk.Invoice) string { return in.ID })
		if in == nil {
			return nil, missing("invoice")
		}
		in.Status = blueclerk.InvoiceStatusSent
		if typ == blueclerk.EventInvoicePaid {
			in.Status = blueclerk.InvoiceStatusPaid
		}
		return cloneInvoice(*in), nil
	case blueclerk.EventEstimateApproved:
		e := find(st.estimates, id, func(e *blueclerk.Estimate) string { return e.ID })
		if e == nil {
			return nil, missing("estimate")
		}
		e.Status = blueclerk.EstimateStatusApproved
		return cloneEstimate(*e), nil
	}
	return nil, fmt.Errorf("blueclerktest: Emit: unknown event type %q", typ)
}
