package blueclerk

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// EventType names a webhook event, "event" in the payload.
type EventType string

// The documented events.
const (
	EventTicketCreated    EventType = "ticket.created"
	EventTicketUpdated    EventType = "ticket.updated"
	EventJobCreated       EventType = "job.created"
	EventJobCompleted     EventType = "job.completed"
	EventInvoiceSent      EventType = "invoice.sent"
	EventInvoicePaid      EventType = "invoice.paid"
	EventEstimateApproved EventType = "estimate.approved"
)

// Event is one webhook delivery. An event type this package does not know
// is delivered all the same, with its Data.
type Event struct {
	ID        string          `json:"-"`         // the webhook-id header, the same on every redelivery
	Type      EventType       `json:"event"`     // what happened
	Timestamp time.Time       `json:"timestamp"` // when it happened
	Data      json.RawMessage `json:"data"`      // the record, decoded by Ticket, Job, Invoice or Estimate
}

// decodeSecret accepts a Standard Webhooks secret with or without its
// "whsec_" prefix.
func decodeSecret(secret string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil || len(key) == 0 {
		return nil, errors.New("blueclerk: webhook secret must be base64, optionally prefixed whsec_")
	}
	return key, nil
}

// sign computes the base64 HMAC-SHA256 of "id.timestamp.body".
func sign(key []byte, id string, ts int64, body []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id))
	m.Write([]byte{'.'})
	m.Write(strconv.AppendInt(nil, ts, 10))
	m.Write([]byte{'.'})
	m.Write(body)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// SignWebhook returns the webhook-signature header value for a delivery of
// body with the given webhook-id and webhook-timestamp, per the Standard
// Webhooks specification: exactly one "v1,<base64>" entry. Senders and tests
// use it; receivers use [WebhookVerifier].
func SignWebhook(secret, id string, ts time.Time, body []byte) (string, error) {
	key, err := decodeSecret(secret)
	if err != nil {
		return "", err
	}
	if id == "" {
		return "", fmt.Errorf("blueclerk: SignWebhook: empty webhook id")
	}
	return "v1," + sign(key, id, ts.Unix(), body), nil
}
