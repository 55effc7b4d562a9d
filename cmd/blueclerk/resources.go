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

// resource describes an endpoint group whose records are T and whose
// create params are P.
type resource[T, P any] struct {
	name    string // plural, as in the API's paths
	scope   string // the read scope
	all     func(ctx context.Context, c *blueclerk.Client) iter.Seq2[*T, error]
	create  func(ctx context.Context, c *blueclerk.Client, p *P) (*T, error) // nil: the API cannot create it
	columns []column[T]
	fields  []field[P] // create's per-field flags
}

func (r *resource[T, P]) readScope() string { return r.scope }

func (r *resource[T, P]) peek(ctx context.Context, c *blueclerk.Client) error {
	for _, err := range r.all(ctx, c) {
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
			return printList(a, r.name, r.all(cmd.Context(), c), r.columns)
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
			rec, err := r.create(cmd.Context(), c, p)
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
	&resource[blueclerk.Lead, struct{}]{
		name: "leads", scope: blueclerk.ScopeLeadsRead,
		all: func(ctx context.Context, c *blueclerk.Client) iter.Seq2[*blueclerk.Lead, error] {
			return c.Leads.All(ctx)
		},
		columns: leadColumns,
	},
	&resource[blueclerk.Ticket, blueclerk.CreateTicketParams]{
		name: "tickets", scope: blueclerk.ScopeTicketsRead,
		all: func(ctx context.Context, c *blueclerk.Client) iter.Seq2[*blueclerk.Ticket, error] {
			return c.Tickets.All(ctx)
		},
		create: func(ctx context.Context, c *blueclerk.Client, p *blueclerk.CreateTicketParams) (*blueclerk.Ticket, error) {
			return c.Tickets.Create(ctx, p)
		},
		columns: ticketColumns,
		fields:  ticketFields,
	},
	&resource[blueclerk.Job, blueclerk.CreateJobParams]{
		name: "jobs", scope: blueclerk.ScopeJobsRead,
		all: func(ctx context.Context, c *blueclerk.Client) iter.Seq2[*blueclerk.Job, error] {
			return c.Jobs.All(ctx)
		},
		create: func(ctx context.Context, c *blueclerk.Client, p *blueclerk.CreateJobParams) (*blueclerk.Job, error) {
			return c.Jobs.Create(ctx, p)
		},
		columns: jobColumns,
		fields:  jobFields,
	},
	&resource[blueclerk.Property, blueclerk.CreatePropertyParams]{
		name: "properties", scope: blueclerk.ScopePropertiesRead,
		all: func(ctx context.Context, c *blueclerk.Client) iter.Seq2[*blueclerk.Property, error] {
			return c.Properties.All(ctx)
		},
		create: func(ctx context.Context, c *blueclerk.Client, p *blueclerk.CreatePropertyParams) (*blueclerk.Property, error) {
			return c.Properties.Create(ctx, p)
		},
		columns: propertyColumns,
		fields:  propertyFields,
	},
	&resource[blueclerk.Estimate, blueclerk.CreateEstimateParams]{
		name: "estimates", scope: blueclerk.ScopeEstimatesRead,
		all: func(ctx context.Context, c *blueclerk.Client) iter.Seq2[*blueclerk.Estimate, error] {
			return c.Estimates.All(ctx)
		},
		create: func(ctx context.Context, c *blueclerk.Client, p *blueclerk.CreateEstimateParams) (*blueclerk.Estimate, error) {
			return c.Estimates.Create(ctx, p)
		},
		columns: estimateColumns,
		fields:  estimateFields,
	},
	&resource[blueclerk.Invoice, blueclerk.CreateInvoiceParams]{
		name: "invoices", scope: blueclerk.ScopeInvoicesRead,
		all: func(ctx context.Context, c *blueclerk.Client) iter.Seq2[*blueclerk.Invoice, error] {
			return c.Invoices.All(ctx)
		},
		create: func(ctx context.Context, c *blueclerk.Client, p *blueclerk.CreateInvoiceParams) (*blueclerk.Invoice, error) {
			return c.Invoices.Create(ctx, p)
		},
		columns: invoiceColumns,
		fields:  invoiceFields,
	},
	&resource[blueclerk.Contact, blueclerk.CreateContactParams]{
		name: "contacts", scope: blueclerk.ScopeContactsRead,
		all: func(ctx context.Context, c *blueclerk.Client) iter.Seq2[*blueclerk.Contact, error] {
			return c.Contacts.All(ctx)
		},
		create: func(ctx context.Context, c *blueclerk.Client, p *blueclerk.CreateContactParams) (*blueclerk.Contact, error) {
			return c.Contacts.Create(ctx, p)
		},
		columns: contactColumns,
		fields:  contactFields,
	},
}
