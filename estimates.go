package blueclerk

import (
	"context"
	"encoding/json"
	"iter"
	"time"

	"github.com/shopspring/decimal"
)

// EstimateStatus is where an estimate stands. Values the server sends that
// are not listed here are kept as they are.
type EstimateStatus string

// Estimate statuses.
const (
	EstimateStatusDraft    EstimateStatus = "draft"
	EstimateStatusSent     EstimateStatus = "sent"
	EstimateStatusApproved EstimateStatus = "approved"
	EstimateStatusRejected EstimateStatus = "rejected"
)

// Estimate is a quote for work, line by line.
type Estimate struct {
	ID         string             `json:"id"`
	CustomerID string             `json:"customerId"`
	LineItems  []EstimateLineItem `json:"lineItems"`
	Status     EstimateStatus     `json:"status,omitempty"`
	CreatedAt  time.Time          `json:"createdAt,omitzero"`
}

// EstimateLineItem is one line of an estimate. Quantity and UnitPrice are
// exact decimals, sent as JSON numbers (75.00, never 75.0000001).
type EstimateLineItem struct {
	Description string          `json:"description"`
	Quantity    decimal.Decimal `json:"quantity"`
	UnitPrice   decimal.Decimal `json:"unitPrice"`
}

// MarshalJSON writes Quantity and UnitPrice as JSON numbers, whatever the
// decimal package's global settings.
func (li EstimateLineItem) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Description string      `json:"description"`
		Quantity    json.Number `json:"quantity"`
		UnitPrice   json.Number `json:"unitPrice"`
	}{li.Description, number(li.Quantity), number(li.UnitPrice)})
}

// number renders d as a JSON number, keeping the scale it was given:
// 75.00 stays 75.00 rather than 75.
func number(d decimal.Decimal) json.Number {
	if exp := d.Exponent(); exp < 0 {
		return json.Number(d.StringFixed(-exp))
	}
	return json.Number(d.String())
}

// checkAmounts validates one line item's quantity and price.
func checkAmounts(what string, i int, quantity, unitPrice decimal.Decimal) error {
	if !quantity.IsPositive() {
		return invalidf("%s lineItems[%d].quantity must be greater than 0, got %s", what, i, quantity)
	}
	if unitPrice.IsNegative() {
		return invalidf("%s lineItems[%d].unitPrice must not be negative, got %s", what, i, unitPrice)
	}
	return nil
}

// CreateEstimateParams is the body of POST /api/v1/estimates. CustomerID and
// at least one line item are required; every quantity must be greater than
// 0 and every unit price at least 0.
type CreateEstimateParams struct {
	CustomerID string             `json:"customerId"`
	LineItems  []EstimateLineItem `json:"lineItems"`
}

func (p *CreateEstimateParams) validate() error {
	switch {
	case p == nil:
		return invalidf("nil *CreateEstimateParams")
	case p.CustomerID == "":
		return invalidf("estimate customerId is required")
	case len(p.LineItems) == 0:
		return invalidf("estimate lineItems needs at least one line item")
	}
	for i, li := range p.LineItems {
		if err := checkAmounts("estimate", i, li.Quantity, li.UnitPrice); err != nil {
			return err
		}
	}
	return nil
}

// EstimatesService reaches /api/v1/estimates. Reading needs the
// estimates.read scope, creating estimates.write.
type EstimatesService service

// List returns every estimate of the authenticated company (GET
// /api/v1/estimates), following pages when the server sends them.
func (s *EstimatesService) List(ctx context.Context, opts ...CallOption) ([]*Estimate, error) {
	return list[Estimate](ctx, s.client, apiPrefix+"/estimates", "estimates", opts)
}

// All yields the company's estimates one at a time (GET /api/v1/estimates);
// see [LeadsService.All].
func (s *EstimatesService) All(ctx context.Context, opts ...CallOption) iter.Seq2[*Estimate, error] {
	return all[Estimate](ctx, s.client, apiPrefix+"/estimates", "estimates", opts)
}

// Create creates an estimate (POST /api/v1/estimates) and returns it as
// stored. Invalid params fail with [ErrInvalidRequest] before anything is
// sent. A lost answer fails with [ErrOutcomeUnknown]: the estimate may exist.
func (s *EstimatesService) Create(ctx context.Context, p *CreateEstimateParams, opts ...CallOption) (*Estimate, error) {
	return create[Estimate](ctx, s.client, apiPrefix+"/estimates", "estimate", p, opts)
}

func (e *Estimate) objectID() string { return e.ID }
