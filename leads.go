package blueclerk

import (
	"context"
	"iter"
	"time"
)

// LeadStatus is where a lead stands. Values the server sends that are not
// listed here are kept as they are.
type LeadStatus string

// Lead statuses.
const (
	LeadStatusNew       LeadStatus = "new"
	LeadStatusContacted LeadStatus = "contacted"
	LeadStatusQualified LeadStatus = "qualified"
	LeadStatusConverted LeadStatus = "converted"
	LeadStatusLost      LeadStatus = "lost"
)

// Lead is a prospective customer. Leads are read-only through the API.
type Lead struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Email     string     `json:"email"`
	Phone     string     `json:"phone"`
	Status    LeadStatus `json:"status"`
	CreatedAt time.Time  `json:"createdAt"`
}

// LeadsService reaches /api/v1/leads. It needs the leads.read scope.
type LeadsService service

// List returns every lead of the authenticated company (GET /api/v1/leads),
// following pages when the server sends them.
func (s *LeadsService) List(ctx context.Context, opts ...CallOption) ([]*Lead, error) {
	return list[Lead](ctx, s.client, apiPrefix+"/leads", "leads", opts)
}

// All yields the company's leads one at a time (GET /api/v1/leads),
// decoding as it reads, so memory does not grow with the list. After an
// error it yields nothing more. Breaking out of the loop closes the answer.
func (s *LeadsService) All(ctx context.Context, opts ...CallOption) iter.Seq2[*Lead, error] {
	return all[Lead](ctx, s.client, apiPrefix+"/leads", "leads", opts)
}
