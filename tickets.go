package blueclerk

import (
	"context"
	"iter"
	"time"
)

// Priority is a ticket's urgency.
type Priority string

// Ticket priorities. The API documentation shows "high"; the others are
// expected, not documented. Any other value is sent as given and the API
// decides whether it takes it.
const (
	PriorityLow    Priority = "low"
	PriorityMedium Priority = "medium"
	PriorityHigh   Priority = "high"
	PriorityUrgent Priority = "urgent"
)

// TicketStatus is where a ticket stands. Values the server sends that are
// not listed here are kept as they are.
type TicketStatus string

// Ticket statuses.
const (
	TicketStatusOpen       TicketStatus = "open"
	TicketStatusInProgress TicketStatus = "in_progress"
	TicketStatusClosed     TicketStatus = "closed"
)

// Ticket is a customer's service request.
type Ticket struct {
	ID          string       `json:"id"`
	CustomerID  string       `json:"customerId"`
	PropertyID  string       `json:"propertyId,omitempty"`
	Description string       `json:"description"`
	Priority    Priority     `json:"priority,omitempty"`
	Status      TicketStatus `json:"status,omitempty"`
	CreatedAt   time.Time    `json:"createdAt,omitzero"`
	UpdatedAt   time.Time    `json:"updatedAt,omitzero"`
}

// CreateTicketParams is the body of POST /api/v1/tickets. CustomerID and
// Description are required; Priority is sent as given when set.
type CreateTicketParams struct {
	CustomerID  string   `json:"customerId"`
	PropertyID  string   `json:"propertyId,omitempty"`
	Description string   `json:"description"`
	Priority    Priority `json:"priority,omitempty"`
}

func (p *CreateTicketParams) validate() error {
	switch {
	case p == nil:
		return invalidf("nil *CreateTicketParams")
	case p.CustomerID == "":
		return invalidf("ticket customerId is required")
	case p.Description == "":
		return invalidf("ticket description is required")
	}
	return nil
}

// TicketsService reaches /api/v1/tickets. Reading needs the tickets.read
// scope, creating tickets.write.
type TicketsService service

// List returns every ticket of the authenticated company (GET
// /api/v1/tickets), following pages when the server sends them.
func (s *TicketsService) List(ctx context.Context, opts ...CallOption) ([]*Ticket, error) {
	return list[Ticket](ctx, s.client, apiPrefix+"/tickets", "tickets", opts)
}

// All yields the company's tickets one at a time (GET /api/v1/tickets); see
// [LeadsService.All].
func (s *TicketsService) All(ctx context.Context, opts ...CallOption) iter.Seq2[*Ticket, error] {
	return all[Ticket](ctx, s.client, apiPrefix+"/tickets", "tickets", opts)
}

// Create creates a ticket (POST /api/v1/tickets) and returns it as stored.
// Invalid params fail with [ErrInvalidRequest] before anything is sent. A
// lost answer fails with [ErrOutcomeUnknown]: the ticket may exist.
func (s *TicketsService) Create(ctx context.Context, p *CreateTicketParams, opts ...CallOption) (*Ticket, error) {
	return create[Ticket](ctx, s.client, apiPrefix+"/tickets", "ticket", p, opts)
}

func (t *Ticket) objectID() string { return t.ID }
