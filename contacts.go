package blueclerk

import (
	"context"
	"iter"
)

// Contact is a person at a customer company.
type Contact struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Email     string `json:"email,omitempty"`
	Phone     string `json:"phone,omitempty"`
	CompanyID string `json:"companyId,omitempty"`
}

// CreateContactParams is the body of POST /api/v1/contacts. Name is
// required.
type CreateContactParams struct {
	Name      string `json:"name"`
	Email     string `json:"email,omitempty"`
	Phone     string `json:"phone,omitempty"`
	CompanyID string `json:"companyId,omitempty"`
}

func (p *CreateContactParams) validate() error {
	switch {
	case p == nil:
		return invalidf("nil *CreateContactParams")
	case p.Name == "":
		return invalidf("contact name is required")
	}
	return nil
}

// ContactsService reaches /api/v1/contacts. Reading needs the
// contacts.read scope, creating contacts.write.
type ContactsService service

// List returns every contact of the authenticated company (GET
// /api/v1/contacts), following pages when the server sends them.
func (s *ContactsService) List(ctx context.Context, opts ...CallOption) ([]*Contact, error) {
	return list[Contact](ctx, s.client, apiPrefix+"/contacts", "contacts", opts)
}

// All yields the company's contacts one at a time (GET /api/v1/contacts);
// see [LeadsService.All].
func (s *ContactsService) All(ctx context.Context, opts ...CallOption) iter.Seq2[*Contact, error] {
	return all[Contact](ctx, s.client, apiPrefix+"/contacts", "contacts", opts)
}

// Create creates a contact (POST /api/v1/contacts) and returns it as
// stored. Invalid params fail with [ErrInvalidRequest] before anything is
// sent. A lost answer fails with [ErrOutcomeUnknown]: the contact may exist.
func (s *ContactsService) Create(ctx context.Context, p *CreateContactParams, opts ...CallOption) (*Contact, error) {
	return create[Contact](ctx, s.client, apiPrefix+"/contacts", "contact", p, opts)
}

func (c *Contact) objectID() string { return c.ID }
