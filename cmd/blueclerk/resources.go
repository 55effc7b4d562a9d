package main

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strings"

	"github.com/spf13/cobra"

	blueclerk "github.com/blueclerk/blueclerk-go"
)

// resourceCommand is the command of one endpoint group: `NAME list`, and
// `NAME create` for all but leads.
type resourceCommand interface {
	command(a *app) *cobra.Command
	// readScope is the scope that lists the resource.
	readScope() string
	// peek reads the first record at most, which is enough to learn the
	// budget.
	peek(ctx context.Context, c *blueclerk.Client) error
}

// lister is a service of the SDK that lists T, such as *LeadsService.
type lister[T any] interface {
	All(ctx context.Context, opts ...blueclerk.CallOption) iter.Seq2[*T, error]
}

// creator is a service that also creates T from P, such as
// *TicketsService.
type creator[T, P any] interface {
	lister[T]
	Create(ctx context.Context, p *P, opts ...blueclerk.CallOption) (*T, error)
}

// resource describes an endpoint group whose records are T and whose
// create params are P.
type resource[T, P any] struct {
	name    string // plural, as in the API's paths
	scope   string // the read scope
	list    func(*blueclerk.Client) lister[T]
	create  func(*blueclerk.Client) creator[T, P] // nil: the API cannot create it
	columns []column[T]
	fields  []field[P] // create's per-field flags
}

// listed returns a resource that can only be listed.
func listed[T any](name, scope string, svc func(*blueclerk.Client) lister[T], cols []column[T]) *resource[T, struct{}] {
	return &resource[T, struct{}]{name: name, scope: scope, list: svc, columns: cols}
}

// created returns a resource that can be listed and created.
func created[T, P any](name, scope string, svc func(*blueclerk.Client) creator[T, P], cols []column[T], fields []field[P]) *resource[T, P] {
	return &resource[T, P]{name: name, scope: scope, columns: cols, fields: fields, create: svc,
		list: func(c *blueclerk.Client) lister[T] { return svc(c) }}
}

func (r *resource[T, P]) readScope() string { return r.scope }

func (r *resource[T, P]) peek(ctx context.Context, c *blueclerk.Client) error {
	for _, err := range r.list(c).All(ctx) {
		return err
	}
	return nil
}

func (r *resource[T, P]) command(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   r.name,
		Short: "List " + r.name,
		Args:  cobra.NoArgs,
	}
	if r.create != nil {
		cmd.Short = "List and create " + r.name
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "list",
		Short: "List every one of the company's " + r.name,
		Long: `list prints the company's ` + r.name + ` as they arrive: a table that fits the
terminal, one JSON array (--output json) or one JSON object a line
(--output jsonl). Memory does not grow with the list.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, _, err := a.client(cmd.Context())
			if err != nil {
				return err
			}
			return printList(a, r.name, r.list(c).All(cmd.Context()), r.columns)
		},
	})
	if r.create != nil {
		cmd.AddCommand(r.createCommand(a))
	}
	return cmd
}

// createCommand is `NAME create`.
func (r *resource[T, P]) createCommand(a *app) *cobra.Command {
	var data string
	values := make([]string, len(r.fields))
	lists := make([][]string, len(r.fields))
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Create one of the company's " + r.name,
		Long: `create sends the body given with --data (JSON, @file, or @- for standard
input), with the fields given by flags set over it, and prints the created
record as JSON. A missing required field is refused before anything is
sent.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p := new(P)
			if data != "" {
				if err := a.decodeData(data, p); err != nil {
					return err
				}
			}
			for i, f := range r.fields {
				if !cmd.Flags().Changed(f.flag) {
					continue
				}
				var err error
				if f.setAll != nil {
					err = f.setAll(p, lists[i])
				} else {
					err = f.set(p, values[i])
				}
				if err != nil {
					return fmt.Errorf("--%s: %w", f.flag, err)
				}
			}
			c, _, err := a.client(cmd.Context())
			if err != nil {
				return err
			}
			rec, err := r.create(c).Create(cmd.Context(), p)
			if err != nil {
				return r.refused(err)
			}
			return a.printObject(rec)
		},
	}
	cmd.Flags().StringVar(&data, "data", "", "the request body: JSON, @file, or @- for standard input")
	for i, f := range r.fields {
		if f.setAll != nil {
			cmd.Flags().StringArrayVar(&lists[i], f.flag, nil, f.usage)
		} else {
			cmd.Flags().StringVar(&values[i], f.flag, "", f.usage)
		}
	}
	return cmd
}

// refused adds to a create refused as invalid the flag that sets the field
// it names.
func (r *resource[T, P]) refused(err error) error {
	if !errors.Is(err, blueclerk.ErrInvalidRequest) {
		return err
	}
	msg := err.Error()
	for _, f := range r.fields {
		if strings.Contains(msg, " "+f.json+" ") || strings.Contains(msg, " "+f.json+"[") {
			return fmt.Errorf("%w; pass --%s, or set %s in --data", err, f.flag, f.json)
		}
	}
	return err
}

// resources are the API's endpoint groups, in the order of its
// documentation.
var resources = []resourceCommand{
	listed("leads", blueclerk.ScopeLeadsRead,
		func(c *blueclerk.Client) lister[blueclerk.Lead] { return c.Leads }, leadColumns),
	created("tickets", blueclerk.ScopeTicketsRead,
		func(c *blueclerk.Client) creator[blueclerk.Ticket, blueclerk.CreateTicketParams] { return c.Tickets },
		ticketColumns, ticketFields),
	created("jobs", blueclerk.ScopeJobsRead,
		func(c *blueclerk.Client) creator[blueclerk.Job, blueclerk.CreateJobParams] { return c.Jobs },
		jobColumns, jobFields),
	created("properties", blueclerk.ScopePropertiesRead,
		func(c *blueclerk.Client) creator[blueclerk.Property, blueclerk.CreatePropertyParams] {
			return c.Properties
		},
		propertyColumns, propertyFields),
	created("estimates", blueclerk.ScopeEstimatesRead,
		func(c *blueclerk.Client) creator[blueclerk.Estimate, blueclerk.CreateEstimateParams] {
			return c.Estimates
		},
		estimateColumns, estimateFields),
	created("invoices", blueclerk.ScopeInvoicesRead,
		func(c *blueclerk.Client) creator[blueclerk.Invoice, blueclerk.CreateInvoiceParams] { return c.Invoices },
		invoiceColumns, invoiceFields),
	created("contacts", blueclerk.ScopeContactsRead,
		func(c *blueclerk.Client) creator[blueclerk.Contact, blueclerk.CreateContactParams] { return c.Contacts },
		contactColumns, contactFields),
}
