package blueclerktest

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	blueclerk "github.com/blueclerk/blueclerk-go"
)

// testSecret is a Standard Webhooks secret.
const testSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// hook is one webhook request a receiver got.
type hook struct {
	header http.Header
	body   []byte
}

// receiver is a loopback webhook endpoint that answers with the statuses it
// was given, in turn, then 204.
type receiver struct {
	*httptest.Server
	got chan hook
}

func newReceiver(t *testing.T, statuses ...int) *receiver {
	rc := &receiver{got: make(chan hook, 64)}
	var mu sync.Mutex
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rc.got <- hook{r.Header.Clone(), b}
		mu.Lock()
		status := http.StatusNoContent
		if len(statuses) > 0 {
			status, statuses = statuses[0], statuses[1:]
		}
		mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(rc.Close)
	return rc
}

// next returns the next webhook request the receiver got.
func (rc *receiver) next(t *testing.T) hook {
	t.Helper()
	select {
	case h := <-rc.got:
		return h
	case <-time.After(10 * time.Second):
		t.Fatal("no webhook within 10 s")
		return hook{}
	}
}

// verify checks a webhook's Standard Webhooks signature with crypto/hmac
// and decodes its payload.
func verify(t *testing.T, h hook, secret string) (event string, data map[string]any) {
	t.Helper()
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		t.Fatal(err)
	}
	id, ts := h.header.Get("webhook-id"), h.header.Get("webhook-timestamp")
	if _, err := strconv.ParseInt(ts, 10, 64); err != nil || id == "" {
		t.Fatalf("webhook-id %q webhook-timestamp %q", id, ts)
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id + "." + ts + "." + string(h.body)))
	want := "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
	if got := h.header.Get("webhook-signature"); !hmac.Equal([]byte(got), []byte(want)) {
		t.Fatalf("webhook-signature %q, want %q", got, want)
	}
	var p struct {
		Event     string
		Timestamp time.Time
		Data      map[string]any
	}
	if err := json.Unmarshal(h.body, &p); err != nil || p.Timestamp.IsZero() || p.Data == nil {
		t.Fatalf("payload %s: %v", h.body, err)
	}
	return p.Event, p.Data
}

func TestWebhooksDeliveredAndSigned(t *testing.T) {
	t.Parallel()
	a, b := newReceiver(t), newReceiver(t)
	secretB := NewWebhookSecret()
	s := newServer(t, WithWebhook(a.URL, testSecret), WithWebhook(b.URL, secretB))
	hc := testClient(t)
	tok := s.IssueToken().AccessToken
	mustSend(t, hc, "POST", s.URL+"/api/v1/tickets", tok, validBodies["tickets"])
	mustSend(t, hc, "POST", s.URL+"/api/v1/jobs", tok, validBodies["jobs"])
	mustSend(t, hc, "POST", s.URL+"/api/v1/contacts", tok, validBodies["contacts"]) // fires nothing
	if err := s.WaitDeliveries(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, rc := range []struct {
		*receiver
		secret string
	}{{a, testSecret}, {b, secretB}} {
		got := map[string]string{}
		for range 2 {
			event, data := verify(t, rc.next(t), rc.secret)
			got[event], _ = data["id"].(string)
		}
		if got["ticket.created"] != "ticket_1" || got["job.created"] != "job_1" || len(got) != 2 {
			t.Errorf("events %v", got)
		}
	}
	ds := s.Deliveries()
	if len(ds) != 4 {
		t.Fatalf("%d deliveries, want 4", len(ds))
	}
	for _, d := range ds {
		if !d.Delivered || d.Attempts != 1 || d.Err != nil || d.Status != http.StatusNoContent {
			t.Errorf("delivery %+v", d)
		}
	}
	if ds[0].ID != ds[1].ID || ds[0].ID == ds[2].ID {
		t.Errorf("webhook-id must be one per event: %s %s %s", ds[0].ID, ds[1].ID, ds[2].ID)
	}
}

func TestEmit(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t)
	s := newServer(t, WithWebhook(rc.URL, testSecret))
	s.AddTicket(testTicket())
	s.AddJob(blueclerk.Job{TicketID: "ticket_1", ScheduledDate: time.Now()})
	s.AddInvoice(blueclerk.Invoice{CustomerID: "c"})
	s.AddEstimate(blueclerk.Estimate{CustomerID: "c"})
	for _, c := range []struct {
		typ    blueclerk.EventType
		id     string
		status string
	}{
		{blueclerk.EventTicketUpdated, "ticket_1", "in_progress"},
		{blueclerk.EventTicketUpdated, "ticket_1", "closed"},
		{blueclerk.EventTicketCreated, "ticket_1", "closed"},
		{blueclerk.EventJobCompleted, "job_1", "completed"},
		{blueclerk.EventJobCreated, "job_1", "completed"},
		{blueclerk.EventInvoiceSent, "invoice_1", "sent"},
		{blueclerk.EventInvoicePaid, "invoice_1", "paid"},
		{blueclerk.EventEstimateApproved, "estimate_1", "approved"},
	} {
		if err := s.Emit(c.typ, c.id); err != nil {
			t.Fatal(err)
		}
		event, data := verify(t, rc.next(t), testSecret)
		if event != string(c.typ) || data["id"] != c.id || data["status"] != c.status {
			t.Errorf("Emit(%s, %s) delivered %s %v, want status %s", c.typ, c.id, event, data, c.status)
		}
	}
	if s.Tickets()[0].Status != blueclerk.TicketStatusClosed || s.Jobs()[0].Status != blueclerk.JobStatusCompleted ||
		s.Invoices()[0].Status != blueclerk.InvoiceStatusPaid || s.Estimates()[0].Status != blueclerk.EstimateStatusApproved {
		t.Error("Emit did not change the stored records")
	}
	for _, c := range []struct {
		typ blueclerk.EventType
		id  string
	}{{blueclerk.EventInvoicePaid, "invoice_9"}, {blueclerk.EventJobCompleted, "ticket_1"}, {"lead.created", "lead_1"}} {
		if err := s.Emit(c.typ, c.id); err == nil {
			t.Errorf("Emit(%s, %s) succeeded", c.typ, c.id)
		}
	}
	if n := len(s.Deliveries()); n != 8 {
		t.Errorf("%d deliveries, want 8: a failed Emit delivers nothing", n)
	}
}

func TestWebhookRetried(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, http.StatusInternalServerError, http.StatusServiceUnavailable)
	s := newServer(t, WithWebhook(rc.URL, testSecret))
	s.AddTicket(testTicket())
	if err := s.Emit(blueclerk.EventTicketUpdated, "ticket_1"); err != nil {
		t.Fatal(err)
	}
	if err := s.WaitDeliveries(t.Context()); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for range 3 {
		h := rc.next(t)
		verify(t, h, testSecret)
		ids = append(ids, h.header.Get("webhook-id"))
	}
	if ids[0] != ids[1] || ids[1] != ids[2] {
		t.Errorf("redeliveries changed webhook-id: %v", ids)
	}
	d := s.Deliveries()[0]
	if !d.Delivered || d.Attempts != 3 || d.Err != nil {
		t.Errorf("delivery %+v", d)
	}
}

func TestWebhookBadSecretIsNotRetried(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t)
	const secret = "whsec_not base64!"
	s := newServer(t, WithWebhook(rc.URL, secret))
	s.AddTicket(testTicket())
	if err := s.Emit(blueclerk.EventTicketUpdated, "ticket_1"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := s.WaitDeliveries(ctx); err != nil {
		t.Fatal(err)
	}
	d := s.Deliveries()[0]
	if d.Delivered || d.Attempts != 1 || d.Err == nil || strings.Contains(d.Err.Error(), "not base64!") {
		t.Fatalf("delivery %+v", d)
	}
	if len(rc.got) != 0 {
		t.Fatal("an unsigned webhook was sent")
	}
}
