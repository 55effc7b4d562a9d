package blueclerk

import (
	"context"
	"iter"
)

// Property is a serviced address.
type Property struct {
	ID      string `json:"id"`
	Address string `json:"address"`
	City    string `json:"city"`
	State   string `json:"state"`
	Zip     string `json:"zip"`
	OwnerID string `json:"ownerId,omitempty"`
}

// CreatePropertyParams is the body of POST /api/v1/properties. Address,
// City, State and Zip are required.
type CreatePropertyParams struct {
	Address string `json:"address"`
	City    string `json:"city"`
	State   string `json:"state"`
	Zip     string `json:"zip"`
	OwnerID string `json:"ownerId,omitempty"`
}

func (p *CreatePropertyParams) validate() error {
	switch {
	case p == nil:
		return invalidf("nil *CreatePropertyParams")
	case p.Address == "":
		return invalidf("property address is required")
	case p.City == "":
		return invalidf("property city is required")
	case p.State == "":
		return invalidf("property state is required")
	case p.Zip == "":
		return invalidf("property zip is required")
	}
	return nil
}

// PropertiesService reaches /api/v1/properties. Reading needs the
// properties.read scope, creating properties.write.
type PropertiesService service

// List returns every property of the authenticated company (GET
// /api/v1/properties), following pages when the server sends them.
func (s *PropertiesService) List(ctx context.Context, opts ...CallOption) ([]*Property, error) {
	return list[Property](ctx, s.client, apiPrefix+"/properties", "properties", opts)
}

// All yields the company's properties one at a time (GET
// /api/v1/properties); see [LeadsService.All].
func (s *PropertiesService) All(ctx context.Context, opts ...CallOption) iter.Seq2[*Property, error] {
	return all[Property](ctx, s.client, apiPrefix+"/properties", "properties", opts)
}

// Create creates a property (POST /api/v1/properties) and returns it as
// stored. Invalid params fail with [ErrInvalidRequest] before anything is
// sent. A lost answer fails with [ErrOutcomeUnknown]: the property may exist.
func (s *PropertiesService) Create(ctx context.Context, p *CreatePropertyParams, opts ...CallOption) (*Property, error) {
	return create[Property](ctx, s.client, apiPrefix+"/properties", "property", p, opts)
}

func (p *Property) objectID() string { return p.ID }
