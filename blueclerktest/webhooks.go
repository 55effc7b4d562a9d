package blueclerktest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	blueclerk "github.com/blueclerk/blueclerk-go"
)

const (
	// deliveryWindow bounds all attempts of one delivery.
	deliveryWindow = 30 * time.Second
	// attemptTimeout bounds one attempt.
	attemptTimeout = 5 * time.Second
	// firstRetry is the wait before the first retry; it doubles after each
	// failure: 0.1 s, 0.2 s, 0.4 s … 12.8 s, 8 retries within the window.
	firstRetry = 100 * time.Millisecond
)

// errPermanent marks a failure no retry can mend.
var errPermanent = errors.New("not retried")

// NewWebhookSecret returns a new random Standard Webhooks secret,
// "whsec_" followed by 24 random bytes in base64, for [WithWebhook] and the
// receiver's verifier.
func NewWebhookSecret() string {
	key := make([]byte, 24)
	_, _ = rand.Read(key)
	return "whsec_" + base64.StdEncoding.EncodeToString(key)
}

// webhookEndpoint is a registered receiver.
type webhookEndpoint struct{ url, secret string }

// Delivery is one event's delivery to one endpoint, as [Server.Deliveries]
// reports it.
type Delivery struct {
	ID        string              // webhook-id, the same on every attempt and for every endpoint
	Event     blueclerk.EventType // the event type
	URL       string              // the endpoint
	Body      []byte              // the payload: {"event", "timestamp", "data"}
	Attempts  int                 // attempts made so far
	Status    int                 // HTTP status of the last attempt; 0 when it got no answer
	Err       error               // why the last attempt failed; nil once delivered
	Delivered bool                // an attempt got a 2xx answer
}

// hooks delivers webhooks in background goroutines, which Close ends.
type hooks struct {
	endpoints []webhookEndpoint
	transport *http.Transport
	client    *http.Client

	mu         sync.Mutex
	closed     bool
	deliveries []*Delivery
	pending    int
	settled    chan struct{} // closed when pending falls to 0
	wg         sync.WaitGroup
}

func (h *hooks) init(endpoints []webhookEndpoint) {
	h.endpoints = endpoints
	h.transport = &http.Transport{Proxy: nil}
	h.client = &http.Client{
		Transport:     h.transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	h.settled = make(chan struct{})
	close(h.settled)
}

// close waits for the deliveries in flight, which the server's context has
// cancelled, and closes their connections.
func (h *hooks) close() {
	h.mu.Lock()
	h.closed = true
	h.mu.Unlock()
	h.wg.Wait()
	h.transport.CloseIdleConnections()
}

// payload is a webhook body.
type payload struct {
	Event     blueclerk.EventType `json:"event"`
	Timestamp time.Time           `json:"timestamp"`
	Data      any                 `json:"data"`
}

// deliver sends event typ about record to every endpoint, in the
// background, retrying failures within 30 seconds.
func (s *Server) deliver(typ blueclerk.EventType, record any) {
	h := &s.hooks
	if len(h.endpoints) == 0 {
		return
	}
	body, err := json.Marshal(payload{Event: typ, Timestamp: stamp(s.now()), Data: record})
	id := "msg_" + rand.Text()
	for _, ep := range h.endpoints {
		d := &Delivery{ID: id, Event: typ, URL: ep.url, Body: body}
		h.mu.Lock()
		h.deliveries = append(h.deliveries, d)
		switch {
		case err != nil:
			d.Err = fmt.Errorf("encoding the payload: %w", err)
		case h.closed || s.ctx.Err() != nil:
			d.Err = errors.New("the server is closed")
		default:
			if h.pending == 0 {
				h.settled = make(chan struct{})
			}
			h.pending++
			h.wg.Add(1)
			go s.send(d, ep)
		}
		h.mu.Unlock()
	}
}

// send makes the attempts of one delivery.
func (s *Server) send(d *Delivery, ep webhookEndpoint) {
	h := &s.hooks
	defer func() {
		h.mu.Lock()
		h.pending--
		if h.pending == 0 {
			close(h.settled)
		}
		h.mu.Unlock()
		h.wg.Done()
	}()
	ctx, cancel := context.WithTimeout(s.ctx, deliveryWindow)
	defer cancel()
	wait := firstRetry
	for {
		status, err := s.attempt(ctx, d, ep)
		h.mu.Lock()
		d.Attempts++
		d.Status, d.Err, d.Delivered = status, err, err == nil
		h.mu.Unlock()
		if err == nil || errors.Is(err, errPermanent) {
			return
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		wait *= 2
	}
}

// attempt posts the delivery once, signed for this attempt's timestamp.
func (s *Server) attempt(ctx context.Context, d *Delivery, ep webhookEndpoint) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, attemptTimeout)
	defer cancel()
	ts := s.now()
	sig, err := blueclerk.SignWebhook(ep.secret, d.ID, ts, d.Body)
	if err != nil {
		return 0, fmt.Errorf("signing for %s: %w (%w)", ep.url, err, errPermanent)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.url, bytes.NewReader(d.Body))
	if err != nil {
		return 0, fmt.Errorf("webhook URL: %w (%w)", err, errPermanent)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "blueclerktest-webhooks")
	req.Header.Set("webhook-id", d.ID)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(ts.Unix(), 10))
	req.Header.Set("webhook-signature", sig)
	resp, err := s.hooks.client.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.CopyN(io.Discard, resp.Body, 64<<10)
	_ = resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("the receiver at %s answered %s", ep.url, resp.Status)
	}
	return resp.StatusCode, nil
}

// Deliveries returns every webhook delivery so far, in the order the events
// happened, as they stand now. See [Server.WaitDeliveries].
func (s *Server) Deliveries() []Delivery {
	h := &s.hooks
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]Delivery, len(h.deliveries))
	for i, d := range h.deliveries {
		out[i] = *d
		out[i].Body = slices.Clone(d.Body)
	}
	return out
}

// WaitDeliveries waits until no delivery is in flight: each has succeeded or
// given up (after 30 seconds of retries at most). It returns ctx's error if
// ctx ends first.
func (s *Server) WaitDeliveries(ctx context.Context) error {
	s.hooks.mu.Lock()
	settled := s.hooks.settled
	s.hooks.mu.Unlock()
	select {
	case <-settled:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Emit plays what happens in BlueClerk's own app: it changes the record with
// the given id as the event says and delivers the event to every webhook
// endpoint. [blueclerk.EventTicketUpdated] moves a ticket on (open →
// in_progress → closed) and dates it; [blueclerk.EventJobCompleted],
// [blueclerk.EventInvoiceSent], [blueclerk.EventInvoicePaid] and
// [blueclerk.EventEstimateApproved] set the status they name;
// [blueclerk.EventTicketCreated] and [blueclerk.EventJobCreated] deliver the
// record again unchanged. It returns an error, changing nothing, for an
// unknown event type or id. Deliveries happen in the background.
func (s *Server) Emit(typ blueclerk.EventType, id string) error {
	rec, err := s.company.store.apply(typ, id, s.now())
	if err != nil {
		return err
	}
	s.deliver(typ, rec)
	return nil
}
