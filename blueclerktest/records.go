package blueclerktest

import (
	blueclerk "github.com/blueclerk/blueclerk-go"
)

// The Add methods seed the company's records without going through the API:
// nothing is counted against the budget and no webhook is delivered. Each
// fills what is left empty (an ID, the initial status, the creation time from
// the server's clock) and returns the record as stored. The accessors return
// copies of what the server holds, in creation order.

// AddLead stores l. Leads cannot be created through the API; a new server
// holds three sample leads.
func (s *Server) AddLead(l blueclerk.Lead) blueclerk.Lead {
	return s.company.store.addLead(l, s.now())
}

// AddTicket stores t (status open unless set).
func (s *Server) AddTicket(t blueclerk.Ticket) blueclerk.Ticket {
	return s.company.store.addTicket(t, s.now())
}

// AddJob stores j (status scheduled unless set).
func (s *Server) AddJob(j blueclerk.Job) blueclerk.Job {
	return s.company.store.addJob(j, s.now())
}

// AddProperty stores p.
func (s *Server) AddProperty(p blueclerk.Property) blueclerk.Property {
	return s.company.store.addProperty(p)
}

// AddEstimate stores e (status draft unless set).
func (s *Server) AddEstimate(e blueclerk.Estimate) blueclerk.Estimate {
	return s.company.store.addEstimate(e, s.now())
}

// AddInvoice stores in (status draft unless set).
func (s *Server) AddInvoice(in blueclerk.Invoice) blueclerk.Invoice {
	return s.company.store.addInvoice(in, s.now())
}

// AddContact stores c.
func (s *Server) AddContact(c blueclerk.Contact) blueclerk.Contact {
	return s.company.store.addContact(c)
}

// Leads returns the company's leads.
func (s *Server) Leads() []blueclerk.Lead {
	return snapshot(&s.company.store, func(st *store) []blueclerk.Lead { return st.leads })
}

// Tickets returns the company's tickets.
func (s *Server) Tickets() []blueclerk.Ticket {
	return snapshot(&s.company.store, func(st *store) []blueclerk.Ticket { return st.tickets })
}

// Jobs returns the company's jobs.
func (s *Server) Jobs() []blueclerk.Job {
	return snapshot(&s.company.store, func(st *store) []blueclerk.Job { return st.jobs })
}

// Properties returns the company's properties.
func (s *Server) Properties() []blueclerk.Property {
	return snapshot(&s.company.store, func(st *store) []blueclerk.Property { return st.properties })
}

// Estimates returns the company's estimates.
func (s *Server) Estimates() []blueclerk.Estimate {
	out := snapshot(&s.company.store, func(st *store) []blueclerk.Estimate { return st.estimates })
	for i := range out {
		out[i] = cloneEstimate(out[i])
	}
	return out
}

// Invoices returns the company's invoices.
func (s *Server) Invoices() []blueclerk.Invoice {
	out := snapshot(&s.company.store, func(st *store) []blueclerk.Invoice { return st.invoices })
	for i := range out {
		out[i] = cloneInvoice(out[i])
	}
	return out
}

// Contacts returns the company's contacts.
func (s *Server) Contacts() []blueclerk.Contact {
	return snapshot(&s.company.store, func(st *store) []blueclerk.Contact { return st.contacts })
}
