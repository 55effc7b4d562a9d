// Command quickstart walks through the SDK: it logs in with OAuth 2.0 and
// PKCE, lists every resource, creates a ticket, a job for it, an estimate
// and an invoice, receives and verifies the webhooks those writes cause, and
// prints where the API documentation is and what is left of the hourly
// budget.
//
//	go run ./examples/quickstart
//
// With no credentials in the environment it runs against an in-memory
// BlueClerk server (package blueclerktest) started in this process, with a
// webhook receiver of its own, and plays the user's browser itself.
//
// With BLUECLERK_CLIENT_ID and BLUECLERK_CLIENT_SECRET set it runs against
// the real API (BLUECLERK_BASE_URL names another host) and prints the URL to
// log in at; the OAuth client must allow the redirect URI
// http://127.0.0.1/callback on any port. There it only reads unless -create
// says to make the four writes, which are real; webhooks need a public URL,
// so it receives none.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"golang.org/x/oauth2"

	"github.com/blueclerk/blueclerk-go"
	"github.com/blueclerk/blueclerk-go/blueclerktest"
)

var create = flag.Bool("create", false, "against the real API, also create a ticket, a job, an estimate and an invoice")

func main() {
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout, os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

// run is the whole program: against the real API when env holds a client
// ID and secret, else against an in-process fake.
func run(ctx context.Context, out io.Writer, env func(string) string) error {
	id, secret := env("BLUECLERK_CLIENT_ID"), env("BLUECLERK_CLIENT_SECRET")
	if id == "" || secret == "" {
		return runFake(ctx, out)
	}
	base := env("BLUECLERK_BASE_URL")
	if base == "" {
		base = blueclerk.DefaultBaseURL
	}
	return runReal(ctx, out, base, id, secret, *create)
}

// The scopes the tour needs.
var (
	readScopes = []string{
		blueclerk.ScopeLeadsRead, blueclerk.ScopeTicketsRead, blueclerk.ScopeJobsRead,
		blueclerk.ScopePropertiesRead, blueclerk.ScopeEstimatesRead, blueclerk.ScopeInvoicesRead,
		blueclerk.ScopeContactsRead,
	}
	writeScopes = []string{
		blueclerk.ScopeTicketsWrite, blueclerk.ScopeJobsWrite, blueclerk.ScopeEstimatesWrite, blueclerk.ScopeInvoicesWrite,
	}
)

// runReal logs in through the browser and tours the real API.
func runReal(ctx context.Context, out io.Writer, base, id, secret string, writes bool) error {
	scopes := readScopes
	if writes {
		scopes = append(scopes[:len(scopes):len(scopes)], writeScopes...)
	}
	cfg := &oauth2.Config{
		ClientID:     id,
		ClientSecret: secret,
		Endpoint:     blueclerk.Endpoint(base),
		RedirectURL:  "http://127.0.0.1/callback", // any free port
		Scopes:       scopes,
	}
	fmt.Fprintln(out, "BlueClerk quickstart against", base)
	lctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	tok, err := blueclerk.LoopbackLogin(lctx, cfg, func(authURL string) error {
		fmt.Fprintf(out, "Open this URL in your browser to log in:\n\n  %s\n\n", authURL)
		return nil
	})
	if err != nil {
		return err
	}
	printLogin(out, tok)
	c, err := blueclerk.NewClient(cfg.TokenSource(ctx, tok), blueclerk.WithBaseURL(base))
	if err != nil {
		return err
	}
	if err := list(ctx, out, c); err != nil {
		return err
	}
	if writes {
		if _, err := createAll(ctx, out, c); err != nil {
			return err
		}
	} else {
		fmt.Fprintln(out, "no writes: run with -create to make them")
	}
	return finish(ctx, out, c)
}

// runFake starts an in-memory BlueClerk server and a webhook receiver on
// loopback, logs in playing the browser, and tours the API.
func runFake(ctx context.Context, out io.Writer) error {
	const (
		clientID     = "quickstart"
		clientSecret = "quickstart-secret"
		redirectURL  = "http://127.0.0.1/callback"
	)
	hooks, err := startReceiver()
	if err != nil {
		return err
	}
	defer hooks.close()
	srv := blueclerktest.NewServer(
		blueclerktest.WithPlan(blueclerk.PlanPro),
		blueclerktest.WithOAuthClient(clientID, clientSecret, redirectURL),
		blueclerktest.WithWebhook(hooks.url, hooks.secret),
	)
	defer srv.Close()
	fmt.Fprintln(out, "BlueClerk quickstart against an in-process fake at", srv.URL)
	fmt.Fprintln(out, "(set BLUECLERK_CLIENT_ID and BLUECLERK_CLIENT_SECRET to use the real API)")
	fmt.Fprintln(out, "webhooks: receiving at", hooks.url)

	cfg := &oauth2.Config{
		ClientID:     clientID,
		ClientSecret: clientSecret,
		Endpoint:     blueclerk.Endpoint(srv.URL),
		RedirectURL:  redirectURL,
		Scopes:       append(readScopes[:len(readScopes):len(readScopes)], writeScopes...),
	}
	tok, err := loginAsBrowser(ctx, srv, cfg)
	if err != nil {
		return err
	}
	printLogin(out, tok)

	c, err := blueclerk.NewClient(cfg.TokenSource(ctx, tok),
		blueclerk.WithBaseURL(srv.URL), blueclerk.WithPlan(blueclerk.PlanPro))
	if err != nil {
		return err
	}
	if err := list(ctx, out, c); err != nil {
		return err
	}
	made, err := createAll(ctx, out, c)
	if err != nil {
		return err
	}
	// What happens next in BlueClerk's own app: the job is done, the
	// invoice paid. The fake plays it and sends the webhooks.
	if err := srv.Emit(blueclerk.EventJobCompleted, made.job.ID); err != nil {
		return err
	}
	if err := srv.Emit(blueclerk.EventInvoicePaid, made.invoice.ID); err != nil {
		return err
	}
	fmt.Fprintln(out, "emitted: job.completed, invoice.paid (as BlueClerk's app would)")
	if err := hooks.await(ctx, out, blueclerk.EventTicketCreated, blueclerk.EventJobCreated,
		blueclerk.EventJobCompleted, blueclerk.EventInvoicePaid); err != nil {
		return err
	}
	return finish(ctx, out, c)
}

// loginAsBrowser runs the authorization code flow with PKCE, the fake
// playing the browser: its user consents at once, and the code and state
// come back from the redirect.
func loginAsBrowser(ctx context.Context, srv *blueclerktest.Server, cfg *oauth2.Config) (*oauth2.Token, error) {
	sess, err := blueclerk.NewAuthSession(cfg)
	if err != nil {
		return nil, err
	}
	callback, err := srv.Authorize(ctx, sess.URL)
	if err != nil {
		return nil, err
	}
	return sess.Exchange(ctx, cfg, callback)
}

// printLogin says what the token grants; never the token itself.
func printLogin(out io.Writer, tok *oauth2.Token) {
	fmt.Fprintf(out, "login: PKCE authorization code flow done; token valid until %s\n", tok.Expiry.Format("15:04:05"))
	if scope, ok := tok.Extra("scope").(string); ok {
		fmt.Fprintln(out, "  scopes:", scope)
	}
}

// list prints how many records of each kind the company has.
func list(ctx context.Context, out io.Writer, c *blueclerk.Client) error {
	leads, err := c.Leads.List(ctx)
	if err != nil {
		return err
	}
	var names []string
	for _, l := range leads {
		names = append(names, fmt.Sprintf("%s (%s)", l.Name, l.Status))
	}
	fmt.Fprintf(out, "leads: %d %s\n", len(leads), strings.Join(names, ", "))
	counts := []struct {
		name string
		n    func() (int, error)
	}{
		{"tickets", count(ctx, c.Tickets.List)},
		{"jobs", count(ctx, c.Jobs.List)},
		{"properties", count(ctx, c.Properties.List)},
		{"estimates", count(ctx, c.Estimates.List)},
		{"invoices", count(ctx, c.Invoices.List)},
		{"contacts", count(ctx, c.Contacts.List)},
	}
	var line []string
	for _, k := range counts {
		n, err := k.n()
		if err != nil {
			return err
		}
		line = append(line, fmt.Sprintf("%s %d", k.name, n))
	}
	fmt.Fprintln(out, strings.Join(line, ", "))
	return nil
}

func count[T any](ctx context.Context, list func(context.Context, ...blueclerk.CallOption) ([]*T, error)) func() (int, error) {
	return func() (int, error) {
		v, err := list(ctx)
		return len(v), err
	}
}

// created is what createAll made.
type created struct {
	job     *blueclerk.Job
	invoice *blueclerk.Invoice
}

// createAll creates a ticket, a job for it, an estimate and an invoice.
func createAll(ctx context.Context, out io.Writer, c *blueclerk.Client) (*created, error) {
	tk, err := c.Tickets.Create(ctx, &blueclerk.CreateTicketParams{
		CustomerID:  "cust_123",
		Description: "Leaky faucet in master bathroom",
		Priority:    blueclerk.PriorityHigh,
	})
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "created ticket %s (%s, %s): %s\n", tk.ID, tk.Priority, tk.Status, tk.Description)

	tomorrow := time.Now().AddDate(0, 0, 1)
	at := time.Date(tomorrow.Year(), tomorrow.Month(), tomorrow.Day(), 9, 0, 0, 0, time.Local)
	job, err := c.Jobs.Create(ctx, &blueclerk.CreateJobParams{TicketID: tk.ID, ScheduledDate: at, AssignedTo: "user_456"})
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "created job %s for %s, scheduled %s\n", job.ID, job.TicketID, job.ScheduledDate.Local().Format("Mon 2 Jan 15:04"))

	est, err := c.Estimates.Create(ctx, &blueclerk.CreateEstimateParams{CustomerID: "cust_123", LineItems: []blueclerk.EstimateLineItem{
		{Description: "Labor (hours)", Quantity: decimal.RequireFromString("1.5"), UnitPrice: decimal.RequireFromString("75.00")},
		{Description: "Cartridge valve", Quantity: decimal.NewFromInt(1), UnitPrice: decimal.RequireFromString("18.95")},
	}})
	if err != nil {
		return nil, err
	}
	var estTotal decimal.Decimal
	for _, li := range est.LineItems {
		estTotal = estTotal.Add(li.Quantity.Mul(li.UnitPrice))
	}
	fmt.Fprintf(out, "created estimate %s: %d lines, total %s\n", est.ID, len(est.LineItems), estTotal.StringFixed(2))

	inv, err := c.Invoices.Create(ctx, &blueclerk.CreateInvoiceParams{
		CustomerID: "cust_123",
		LineItems:  []blueclerk.InvoiceLineItem{{ItemID: "item_456", Quantity: decimal.NewFromInt(1), UnitPrice: estTotal}},
		DueDate:    blueclerk.DateOf(time.Now().AddDate(0, 0, 30)),
	})
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "created invoice %s: %s due %s\n", inv.ID, inv.LineItems[0].UnitPrice.StringFixed(2), inv.DueDate)
	return &created{job: job, invoice: inv}, nil
}

// finish prints where the documentation is and the budget left.
func finish(ctx context.Context, out io.Writer, c *blueclerk.Client) error {
	docs, err := c.Docs(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "docs:", docs)
	rl := c.RateLimit()
	plan := string(rl.Plan)
	if plan == "" {
		plan = "plan not configured"
	}
	fmt.Fprintf(out, "budget: %s, %d of %d requests left this hour, renews at %s\n",
		plan, rl.Remaining, rl.Limit, rl.Reset.Local().Format("15:04:05"))
	return nil
}

// receiver is a loopback webhook receiver: blueclerk.WebhookVerifier's
// Handler, passing each verified event on.
type receiver struct {
	url, secret string
	events      chan *blueclerk.Event
	srv         *http.Server
	served      chan struct{}
}

func startReceiver() (*receiver, error) {
	r := &receiver{secret: blueclerktest.NewWebhookSecret(), events: make(chan *blueclerk.Event, 16), served: make(chan struct{})}
	v, err := blueclerk.NewWebhookVerifier(r.secret)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r.url = "http://" + ln.Addr().String() + "/webhooks"
	mux := http.NewServeMux()
	mux.Handle("POST /webhooks", v.Handler(func(ctx context.Context, e *blueclerk.Event) error {
		select {
		case r.events <- e:
			return nil
		case <-ctx.Done():
			return ctx.Err() // answered 500: the sender tries again
		}
	}))
	r.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		defer close(r.served)
		_ = r.srv.Serve(ln)
	}()
	return r, nil
}

func (r *receiver) close() {
	_ = r.srv.Close()
	<-r.served
}

// await waits for an event of each of the given types, then prints them
// in that order, each decoded into its record. It fails if one has not come
// within ten seconds.
func (r *receiver) await(ctx context.Context, out io.Writer, types ...blueclerk.EventType) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	got := make(map[blueclerk.EventType]*blueclerk.Event)
	for len(got) < len(types) {
		select {
		case e := <-r.events:
			if slices.Contains(types, e.Type) {
				got[e.Type] = e
			}
		case <-ctx.Done():
			return fmt.Errorf("webhooks: %d of %d events came within 10 seconds", len(got), len(types))
		}
	}
	for _, typ := range types {
		line, err := describe(got[typ])
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "webhook %s (verified): %s\n", typ, line)
	}
	return nil
}

// describe decodes the record an event carries.
func describe(e *blueclerk.Event) (string, error) {
	switch kind, _, _ := strings.Cut(string(e.Type), "."); kind {
	case "ticket":
		t, err := e.Ticket()
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("ticket %s is %s", t.ID, t.Status), nil
	case "job":
		j, err := e.Job()
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("job %s is %s", j.ID, j.Status), nil
	case "invoice":
		in, err := e.Invoice()
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("invoice %s is %s", in.ID, in.Status), nil
	case "estimate":
		est, err := e.Estimate()
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("estimate %s is %s", est.ID, est.Status), nil
	}
	return string(e.Data), nil
}
