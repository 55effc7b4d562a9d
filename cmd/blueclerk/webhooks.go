package main

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"github.com/spf13/cobra"

	blueclerk "github.com/blueclerk/blueclerk-go"
)

// webhookTimeout bounds the POST of a triggered webhook.
const webhookTimeout = 30 * time.Second

// events are the webhook events the API documents.
var events = []blueclerk.EventType{
	blueclerk.EventTicketCreated, blueclerk.EventTicketUpdated, blueclerk.EventJobCreated,
	blueclerk.EventJobCompleted, blueclerk.EventInvoiceSent, blueclerk.EventInvoicePaid,
	blueclerk.EventEstimateApproved,
}

func newWebhooksCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "webhooks",
		Short: "Send test webhooks",
		Args:  cobra.NoArgs,
	}
	var forwardTo, secret string
	trigger := &cobra.Command{
		Use:   "trigger EVENT",
		Short: "Sign a sample event and POST it to a receiver",
		Long: `trigger signs a sample EVENT as BlueClerk does (Standard Webhooks: webhook-id,
webhook-timestamp and webhook-signature, HMAC-SHA256 with the whsec_ secret),
POSTs it to --forward-to, and prints the answer's status. A status other than
2xx is an error. The secret may come from BLUECLERK_WEBHOOK_SECRET instead
of --secret.

Events: ` + strings.Join(eventNames(), ", ") + `.`,
		Args:      cobra.ExactArgs(1),
		ValidArgs: eventNames(),
		RunE: func(cmd *cobra.Command, args []string) error {
			if secret == "" {
				secret = os.Getenv("BLUECLERK_WEBHOOK_SECRET")
			}
			if forwardTo == "" || secret == "" {
				return fmt.Errorf("trigger needs --forward-to URL and --secret whsec_… (or BLUECLERK_WEBHOOK_SECRET)")
			}
			return a.trigger(cmd, blueclerk.EventType(args[0]), forwardTo, secret)
		},
	}
	trigger.Flags().StringVar(&forwardTo, "forward-to", "", "the receiver's `URL`")
	trigger.Flags().StringVar(&secret, "secret", "", "the receiver's signing secret, `whsec_…` (env BLUECLERK_WEBHOOK_SECRET)")
	cmd.AddCommand(trigger)
	return cmd
}

// eventNames lists the events as strings.
func eventNames() []string {
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = string(e)
	}
	return out
}

// trigger signs a sample of event and POSTs it to target.
func (a *app) trigger(cmd *cobra.Command, event blueclerk.EventType, target, secret string) error {
	if !slices.Contains(events, event) {
		return fmt.Errorf("unknown event %q: use one of %s", event, strings.Join(eventNames(), ", "))
	}
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("--forward-to %q: want an http or https URL", target)
	}
	now := time.Now()
	body, err := marshal(struct {
		Event     blueclerk.EventType `json:"event"`
		Timestamp string              `json:"timestamp"`
		Data      any                 `json:"data"`
	}{event, stamp(now), sample(event, now)})
	if err != nil {
		return err
	}
	id := "msg_" + rand.Text()
	sig, err := blueclerk.SignWebhook(secret, id, now, body)
	if err != nil {
		return fmt.Errorf("--secret: %w", err)
	}
	req, err := http.NewRequestWithContext(cmd.Context(), http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "blueclerk-cli/"+blueclerk.Version)
	req.Header.Set("webhook-id", id)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
	req.Header.Set("webhook-signature", sig)
	hc := &http.Client{
		Timeout:       webhookTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	fmt.Fprintln(a.stdout, resp.Status)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		reason := strings.Join(strings.Fields(string(answer)), " ")
		if reason != "" {
			reason = " (" + reason + ")"
		}
		return fmt.Errorf("the receiver answered %s%s; check --forward-to and --secret", resp.Status, reason)
	}
	return nil
}

// sample returns a record such as event carries.
func sample(event blueclerk.EventType, now time.Time) any {
	now = now.UTC().Truncate(time.Second)
	switch event {
	case blueclerk.EventTicketCreated, blueclerk.EventTicketUpdated:
		t := blueclerk.Ticket{ID: "ticket_123", CustomerID: "cust_456", PropertyID: "prop_789",
			Description: "Leaky faucet in master bathroom", Priority: blueclerk.PriorityHigh,
			Status: blueclerk.TicketStatusOpen, CreatedAt: now, UpdatedAt: now}
		if event == blueclerk.EventTicketUpdated {
			t.Status = blueclerk.TicketStatusInProgress
		}
		return t
	case blueclerk.EventJobCreated, blueclerk.EventJobCompleted:
		j := blueclerk.Job{ID: "job_123", TicketID: "ticket_123", ScheduledDate: now.Add(24 * time.Hour),
			AssignedTo: "user_456", Status: blueclerk.JobStatusScheduled, CreatedAt: now}
		if event == blueclerk.EventJobCompleted {
			j.Status = blueclerk.JobStatusCompleted
		}
		return j
	case blueclerk.EventInvoiceSent, blueclerk.EventInvoicePaid:
		in := blueclerk.Invoice{ID: "invoice_123", CustomerID: "cust_456",
			LineItems: []blueclerk.InvoiceLineItem{{ItemID: "item_456", Quantity: decimal.NewFromInt(1),
				UnitPrice: decimal.RequireFromString("150.00")}},
			DueDate: blueclerk.DateOf(now.AddDate(0, 0, 30)), Status: blueclerk.InvoiceStatusSent, CreatedAt: now}
		if event == blueclerk.EventInvoicePaid {
			in.Status = blueclerk.InvoiceStatusPaid
		}
		return in
	}
	return blueclerk.Estimate{ID: "estimate_123", CustomerID: "cust_456",
		LineItems: []blueclerk.EstimateLineItem{{Description: "Labor", Quantity: decimal.NewFromInt(2),
			UnitPrice: decimal.RequireFromString("75.00")}},
		Status: blueclerk.EstimateStatusApproved, CreatedAt: now}
}
