package blueclerktest

import (
	"encoding/json"
	"net/http"
	"slices"
	"time"

	blueclerk "github.com/blueclerk/blueclerk-go"
	"github.com/shopspring/decimal"
)

// resource is one endpoint group of the API.
type resource struct {
	name   string // plural: path segment under /api/v1 and list key
	single string // key of a wrapped created object
	read   string // scope to list
	write  string // scope to create
	// list returns the records as JSON values; the caller holds st.mu.
	list func(st *store) []any
	// create decodes, validates and stores a record; nil when the API
	// cannot create this resource.
	create  func(st *store, body []byte, now time.Time) (any, error)
	created blueclerk.EventType // fired by a create, or ""
}

// resources are the seven endpoint groups, with the scopes package
// blueclerk names for them.
var resources = []*resource{
	{name: "leads", single: "lead", read: blueclerk.ScopeLeadsRead,
		list: func(st *store) []any { return values(st.leads) }},
	{name: "tickets", single: "ticket", read: blueclerk.ScopeTicketsRead, write: blueclerk.ScopeTicketsWrite,
		list: func(st *store) []any { return values(st.tickets) }, create: createTicket,
		created: blueclerk.EventTicketCreated},
	{name: "jobs", single: "job", read: blueclerk.ScopeJobsRead, write: blueclerk.ScopeJobsWrite,
		list: func(st *store) []any { return values(st.jobs) }, create: createJob,
		created: blueclerk.EventJobCreated},
	{name: "properties", single: "property", read: blueclerk.ScopePropertiesRead, write: blueclerk.ScopePropertiesWrite,
		list: func(st *store) []any { return values(st.properties) }, create: createProperty},
	{name: "estimates", single: "estimate", read: blueclerk.ScopeEstimatesRead, write: blueclerk.ScopeEstimatesWrite,
		list: func(st *store) []any { return values(st.estimates) }, create: createEstimate},
	{name: "invoices", single: "invoice", read: blueclerk.ScopeInvoicesRead, write: blueclerk.ScopeInvoicesWrite,
		list: func(st *store) []any { return values(st.invoices) }, create: createInvoice},
	{name: "contacts", single: "contact", read: blueclerk.ScopeContactsRead, write: blueclerk.ScopeContactsWrite,
		list: func(st *store) []any { return values(st.contacts) }, create: createContact},
}

// allScopes lists every scope a token can carry.
var allScopes = func() []string {
	var all []string
	for _, res := range resources {
		all = append(all, res.read)
		if res.write != "" {
			all = append(all, res.write)
		}
	}
	return all
}()

// values copies rows into JSON values.
func values[T any](rows []T) []any {
	out := make([]any, len(rows))
	for i, r := range rows {
		out[i] = r
	}
	return out
}

// field names a JSON member and where to decode it.
type field struct {
	name string
	dst  any
}

// decodeFields decodes body, which must be a JSON object (else 400), into
// the named fields; a member of the wrong shape is a 422 naming it. Members
// not named are ignored; absent ones leave their zero value.
func decodeFields(body []byte, fields ...field) error {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil || obj == nil {
		return &badRequest{http.StatusBadRequest, "the body must be a JSON object"}
	}
	for _, f := range fields {
		raw, ok := obj[f.name]
		if !ok {
			continue
		}
		if err := json.Unmarshal(raw, f.dst); err != nil {
			return invalid("%s must be %s", f.name, shape(f.dst))
		}
	}
	return nil
}

// shape describes what a field must hold.
func shape(dst any) string {
	switch dst.(type) {
	case *time.Time:
		return "an RFC 3339 date-time such as 2024-01-20T14:00:00Z"
	case *blueclerk.Date:
		return "a date such as 2024-02-01"
	case *[]blueclerk.EstimateLineItem:
		return "an array of {description, quantity, unitPrice} with numeric quantity and unitPrice"
	case *[]blueclerk.InvoiceLineItem:
		return "an array of {itemId, quantity, unitPrice} with numeric quantity and unitPrice"
	}
	return "a string"
}

// required returns a 422 for the first empty string among name/value pairs.
func required(pairs ...string) error {
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] == "" {
			return invalid("%s is required", pairs[i])
		}
	}
	return nil
}

// checkLine validates one line item's quantity and unit price.
func checkLine(i int, quantity, unitPrice decimal.Decimal) error {
	if !quantity.IsPositive() {
		return invalid("lineItems[%d].quantity must be greater than 0", i)
	}
	if unitPrice.IsNegative() {
		return invalid("lineItems[%d].unitPrice must not be negative", i)
	}
	return nil
}

var priorities = []blueclerk.Priority{
	blueclerk.PriorityLow, blueclerk.PriorityMedium, blueclerk.PriorityHigh, blueclerk.PriorityUrgent,
}

func createTicket(st *store, body []byte, now time.Time) (any, error) {
	var p blueclerk.CreateTicketParams
	if err := decodeFields(body, field{"customerId", &p.CustomerID}, field{"propertyId", &p.PropertyID},
		field{"description", &p.Description}, field{"priority", &p.Priority}); err != nil {
		return nil, err
	}
	if err := required("customerId", p.CustomerID, "description", p.Description); err != nil {
		return nil, err
	}
	if p.Priority != "" && !slices.Contains(priorities, p.Priority) {
		return nil, invalid("priority must be one of low, medium, high, urgent")
	}
	return st.addTicket(blueclerk.Ticket{CustomerID: p.CustomerID, PropertyID: p.PropertyID,
		Description: p.Description, Priority: p.Priority}, now), nil
}

func createJob(st *store, body []byte, now time.Time) (any, error) {
	var p blueclerk.CreateJobParams
	if err := decodeFields(body, field{"ticketId", &p.TicketID}, field{"scheduledDate", &p.ScheduledDate},
		field{"assignedTo", &p.AssignedTo}); err != nil {
		return nil, err
	}
	if err := required("ticketId", p.TicketID); err != nil {
		return nil, err
	}
	if p.ScheduledDate.IsZero() {
		return nil, invalid("scheduledDate is required")
	}
	return st.addJob(blueclerk.Job{TicketID: p.TicketID, ScheduledDate: p.ScheduledDate,
		AssignedTo: p.AssignedTo}, now), nil
}

func createProperty(st *store, body []byte, _ time.Time) (any, error) {
	var p blueclerk.CreatePropertyParams
	if err := decodeFields(body, field{"address", &p.Address}, field{"city", &p.City},
		field{"state", &p.State}, field{"zip", &p.Zip}, field{"ownerId", &p.OwnerID}); err != nil {
		return nil, err
	}
	if err := required("address", p.Address, "city", p.City, "state", p.State, "zip", p.Zip); err != nil {
		return nil, err
	}
	return st.addProperty(blueclerk.Property{Address: p.Address, City: p.City, State: p.State,
		Zip: p.Zip, OwnerID: p.OwnerID}), nil
}

func createEstimate(st *store, body []byte, now time.Time) (any, error) {
	var p blueclerk.CreateEstimateParams
	if err := decodeFields(body, field{"customerId", &p.CustomerID}, field{"lineItems", &p.LineItems}); err != nil {
		return nil, err
	}
	if err := required("customerId", p.CustomerID); err != nil {
		return nil, err
	}
	if len(p.LineItems) == 0 {
		return nil, invalid("lineItems is required: at least one line item")
	}
	for i, li := range p.LineItems {
		if err := checkLine(i, li.Quantity, li.UnitPrice); err != nil {
			return nil, err
		}
	}
	return st.addEstimate(blueclerk.Estimate{CustomerID: p.CustomerID, LineItems: p.LineItems}, now), nil
}

func createInvoice(st *store, body []byte, now time.Time) (any, error) {
	var p blueclerk.CreateInvoiceParams
	if err := decodeFields(body, field{"customerId", &p.CustomerID}, field{"lineItems", &p.LineItems},
		field{"dueDate", &p.DueDate}); err != nil {
		return nil, err
	}
	if err := required("customerId", p.CustomerID); err != nil {
		return nil, err
	}
	if len(p.LineItems) == 0 {
		return nil, invalid("lineItems is required: at least one line item")
	}
	if p.DueDate.IsZero() {
		return nil, invalid("dueDate is required")
	}
	for i, li := range p.LineItems {
		if err := checkLine(i, li.Quantity, li.UnitPrice); err != nil {
			return nil, err
		}
	}
	return st.addInvoice(blueclerk.Invoice{CustomerID: p.CustomerID, LineItems: p.LineItems,
		DueDate: p.DueDate}, now), nil
}

func createContact(st *store, body []byte, _ time.Time) (any, error) {
	var p blueclerk.CreateContactParams
	if err := decodeFields(body, field{"name", &p.Name}, field{"email", &p.Email},
		field{"phone", &p.Phone}, field{"companyId", &p.CompanyID}); err != nil {
		return nil, err
	}
	if err := required("name", p.Name); err != nil {
		return nil, err
	}
	return st.addContact(blueclerk.Contact{Name: p.Name, Email: p.Email, Phone: p.Phone,
		CompanyID: p.CompanyID}), nil
}
