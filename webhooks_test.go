package blueclerk

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"
)

// The Standard Webhooks test vector, from the specification's reference
// libraries: standard-webhooks/standard-webhooks,
// libraries/go/webhook_test.go (TestWebhookSign) and
// libraries/javascript/src/webhook.test.ts ("sign function works").
const (
	vectorSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	vectorID        = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	vectorTimestamp = 1614265330
	vectorPayload   = `{"test": 2432232314}`
	vectorSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
	// A wrong v1 signature the same libraries use in their multi-signature
	// and invalid-signature cases.
	vectorWrongSignature = "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc="
)

// The secrets of these tests: testSecret signs, oldSecret is the one being
// rotated out.
var (
	testSecret = "whsec_" + base64.StdEncoding.EncodeToString([]byte("blueclerk-webhooks-test-secret-1"))
	oldSecret  = "whsec_" + base64.StdEncoding.EncodeToString([]byte("blueclerk-webhooks-test-secret-0"))
)

// testNow is the clock of tests that inject one.
var testNow = time.Date(2024, 1, 15, 10, 30, 0, 0, time.UTC)

const ticketPayload = `{"event":"ticket.created","timestamp":"2024-01-15T10:30:00Z",` +
	`"data":{"id":"ticket_123","customerId":"cust_456","description":"Leaky faucet","priority":"high"}}`

// newTestVerifier returns a verifier for secrets whose clock reads testNow.
func newTestVerifier(t testing.TB, secrets ...string) *WebhookVerifier {
	t.Helper()
	v, err := NewWebhookVerifier(secrets...)
	if err != nil {
		t.Fatal(err)
	}
	v.now = func() time.Time { return testNow }
	return v
}

// signedHeader returns the headers of a delivery of body signed with secret.
func signedHeader(t testing.TB, secret, id string, ts time.Time, body []byte) http.Header {
	t.Helper()
	sig, err := SignWebhook(secret, id, ts, body)
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	h.Set("webhook-id", id)
	h.Set("webhook-timestamp", strconv.FormatInt(ts.Unix(), 10))
	h.Set("webhook-signature", sig)
	return h
}

// checkErr fails t unless err matches want (nil for success) and, when
// want is not nil, its text contains every one of says.
func checkErr(t *testing.T, err, want error, says ...string) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("err = %v, want nil", err)
		}
		return
	}
	if !errors.Is(err, want) {
		t.Fatalf("err = %v, want one matching %v", err, want)
	}
	for _, s := range says {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("err = %q, want it to say %q", err, s)
		}
	}
}

func TestStandardWebhooksVector(t *testing.T) {
	t.Parallel()
	ts := time.Unix(vectorTimestamp, 0)
	sig, err := SignWebhook(vectorSecret, vectorID, ts, []byte(vectorPayload))
	if err != nil || sig != vectorSignature {
		t.Fatalf("SignWebhook = %q, %v; want %q", sig, err, vectorSignature)
	}

	header := func(sig string) http.Header {
		return http.Header{
			"Webhook-Id":        {vectorID},
			"Webhook-Timestamp": {strconv.Itoa(vectorTimestamp)},
			"Webhook-Signature": {sig},
		}
	}
	for _, secret := range []string{vectorSecret, strings.TrimPrefix(vectorSecret, "whsec_")} {
		v, err := NewWebhookVerifier(secret)
		if err != nil {
			t.Fatal(err)
		}
		v.now = func() time.Time { return ts }
		checkErr(t, v.Verify(header(vectorSignature), []byte(vectorPayload)), nil)
		// The reference libraries' multi-signature case: one valid entry
		// among wrong ones and another version.
		multi := strings.Join([]string{vectorWrongSignature, "v2," + strings.TrimPrefix(vectorWrongSignature, "v1,"),
			vectorSignature, vectorWrongSignature}, " ")
		checkErr(t, v.Verify(header(multi), []byte(vectorPayload)), nil)
		checkErr(t, v.Verify(header(vectorWrongSignature), []byte(vectorPayload)), ErrInvalidSignature)
	}
}

func TestSignWebhook(t *testing.T) {
	t.Parallel()
	body := []byte(ticketPayload)
	sig, err := SignWebhook(testSecret, "msg_1", testNow, body)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(sig, "v1,") != 1 || strings.Contains(sig, " ") {
		t.Errorf("SignWebhook = %q, want exactly one v1 entry", sig)
	}
	v := newTestVerifier(t, testSecret)
	checkErr(t, v.Verify(signedHeader(t, testSecret, "msg_1", testNow, body), body), nil)

	if _, err := SignWebhook(testSecret, "", testNow, body); err == nil {
		t.Error("SignWebhook with an empty id: no error")
	}
	if _, err := SignWebhook("not base64!", "msg_1", testNow, body); err == nil {
		t.Error("SignWebhook with a bad secret: no error")
	}
}

func TestNewWebhookVerifier(t *testing.T) {
	t.Parallel()
	bare := strings.TrimPrefix(testSecret, "whsec_")
	for _, secrets := range [][]string{{testSecret}, {bare}, {testSecret, oldSecret}} {
		if _, err := NewWebhookVerifier(secrets...); err != nil {
			t.Errorf("NewWebhookVerifier(%d secrets): %v", len(secrets), err)
		}
	}
	for name, secrets := range map[string][]string{
		"none":          nil,
		"not base64":    {"whsec_s3cr3t!not-base64"},
		"empty":         {""},
		"prefix only":   {"whsec_"},
		"second is bad": {testSecret, "whsec_s3cr3t!not-base64"},
	} {
		v, err := NewWebhookVerifier(secrets...)
		if err == nil || v != nil {
			t.Errorf("%s: NewWebhookVerifier = %v, %v; want an error", name, v, err)
			continue
		}
		if strings.Contains(err.Error(), "s3cr3t") || strings.Contains(err.Error(), bare) {
			t.Errorf("%s: the error shows the secret: %v", name, err)
		}
	}
}

func TestWebhookVerifierHidesSecrets(t *testing.T) {
	t.Parallel()
	v := newTestVerifier(t, testSecret, oldSecret)
	body := []byte(ticketPayload)
	// Fill the pools of MACs, so that their state is there to be printed.
	checkErr(t, v.Verify(signedHeader(t, testSecret, "msg_1", testNow, body), body), nil)
	checkErr(t, v.Verify(signedHeader(t, oldSecret, "msg_1", testNow, body), body), nil)
	v.deliveries()

	var secrets []string
	for _, s := range []string{testSecret, oldSecret} {
		key, _ := decodeSecret(s)
		secrets = append(secrets, strings.TrimPrefix(s, "whsec_"), string(key),
			strings.Trim(fmt.Sprint(key), "[]"), fmt.Sprintf("%x", key))
	}
	wrapped := struct{ V *WebhookVerifier }{v}
	for _, format := range []string{"%v", "%+v", "%#v", "%s", "%x", "%q"} {
		for _, arg := range []any{v, wrapped, []any{v}} {
			out := fmt.Sprintf(format, arg)
			for _, s := range secrets {
				if strings.Contains(out, s) {
					t.Errorf("Sprintf(%q, %T) = %s: shows a secret", format, arg, out)
				}
			}
		}
	}
	if got := fmt.Sprint(v); !strings.Contains(got, "2 redacted") {
		t.Errorf("Sprint(v) = %s, want it to say the secrets are redacted", got)
	}
}

func TestVerify(t *testing.T) {
	t.Parallel()
	body := []byte(ticketPayload)
	valid := signedHeader(t, testSecret, "msg_1", testNow, body)
	sig := valid.Get("Webhook-Signature")
	at := func(ts time.Time) http.Header { return signedHeader(t, testSecret, "msg_1", ts, body) }
	with := func(name string, values ...string) http.Header {
		h := valid.Clone()
		h[http.CanonicalHeaderKey(name)] = values
		return h
	}
	without := func(name string) http.Header {
		h := valid.Clone()
		h.Del(name)
		return h
	}
	tests := []struct {
		name   string
		v      *WebhookVerifier
		header http.Header
		body   string
		want   error
		says   []string
	}{
		{name: "valid", header: valid},
		{name: "body tampered", header: valid, body: strings.Replace(ticketPayload, "Leaky", "Fixed", 1),
			want: ErrInvalidSignature, says: []string{"no v1 signature matches", "secret"}},
		{name: "body empty", header: valid, body: "-", want: ErrInvalidSignature},
		{name: "wrong secret", v: newTestVerifier(t, oldSecret), header: valid, want: ErrInvalidSignature},
		{name: "rotation: signed with the new secret", v: newTestVerifier(t, oldSecret, testSecret), header: valid},
		{name: "rotation: signed with the old secret", v: newTestVerifier(t, testSecret, oldSecret),
			header: signedHeader(t, oldSecret, "msg_1", testNow, body)},
		{name: "id changed", header: with("webhook-id", "msg_2"), want: ErrInvalidSignature},
		{name: "timestamp changed", header: with("webhook-timestamp", strconv.FormatInt(testNow.Unix()+1, 10)),
			want: ErrInvalidSignature},

		{name: "5 minutes old", header: at(testNow.Add(-5 * time.Minute))},
		{name: "5 minutes ahead", header: at(testNow.Add(5 * time.Minute))},
		{name: "too old", header: at(testNow.Add(-5*time.Minute - time.Second)),
			want: ErrWebhookTimestamp, says: []string{"more than 5m0s in the past"}},
		{name: "too far ahead", header: at(testNow.Add(5*time.Minute + time.Second)),
			want: ErrWebhookTimestamp, says: []string{"more than 5m0s in the future"}},
		{name: "tolerance configured", v: func() *WebhookVerifier {
			v := newTestVerifier(t, testSecret)
			v.Tolerance = time.Minute
			return v
		}(), header: at(testNow.Add(-2 * time.Minute)), want: ErrWebhookTimestamp, says: []string{"1m0s"}},
		{name: "tolerance configured, within", v: func() *WebhookVerifier {
			v := newTestVerifier(t, testSecret)
			v.Tolerance = time.Hour
			return v
		}(), header: at(testNow.Add(-59 * time.Minute))},
		{name: "timestamp not a number", header: with("webhook-timestamp", "hello"),
			want: ErrWebhookTimestamp, says: []string{"not Unix seconds"}},
		{name: "timestamp in milliseconds", header: with("webhook-timestamp", strconv.FormatInt(testNow.UnixMilli(), 10)),
			want: ErrWebhookTimestamp},
		{name: "timestamp overflows", header: with("webhook-timestamp", "99999999999999999999"), want: ErrWebhookTimestamp},
		{name: "timestamp most negative", header: with("webhook-timestamp", "-9223372036854775808"), want: ErrWebhookTimestamp},
		{name: "timestamp largest", header: with("webhook-timestamp", "9223372036854775807"), want: ErrWebhookTimestamp},

		{name: "missing webhook-id", header: without("webhook-id"), want: ErrInvalidSignature, says: []string{"missing webhook-id header"}},
		{name: "missing webhook-timestamp", header: without("webhook-timestamp"), want: ErrInvalidSignature, says: []string{"missing webhook-timestamp header"}},
		{name: "missing webhook-signature", header: without("webhook-signature"), want: ErrInvalidSignature, says: []string{"missing webhook-signature header"}},
		{name: "empty webhook-id", header: with("webhook-id", ""), want: ErrInvalidSignature, says: []string{"missing webhook-id header"}},
		{name: "no headers", header: nil, want: ErrInvalidSignature, says: []string{"missing webhook-id header"}},
		{name: "two webhook-ids", header: with("webhook-id", "msg_1", "msg_2"), want: ErrInvalidSignature, says: []string{"2 webhook-id headers"}},
		{name: "two webhook-timestamps", header: with("webhook-timestamp", valid.Get("webhook-timestamp"), valid.Get("webhook-timestamp")),
			want: ErrInvalidSignature, says: []string{"2 webhook-timestamp headers"}},
		{name: "two webhook-signatures", header: with("webhook-signature", sig, sig), want: ErrInvalidSignature, says: []string{"2 webhook-signature headers"}},

		{name: "several signatures, one valid", header: with("webhook-signature", "v1,bm9wZQ== v2,abc "+sig+" v1,"+strings.Repeat("A", 44))},
		{name: "extra spaces", header: with("webhook-signature", "  "+sig+"  ")},
		{name: "separated by another space", header: with("webhook-signature", "v2,x\u00a0"+sig), want: ErrInvalidSignature},
		{name: "only another version", header: with("webhook-signature", "v2,"+strings.TrimPrefix(sig, "v1,")),
			want: ErrInvalidSignature, says: []string{"no v1 signature"}},
		{name: "unversioned", header: with("webhook-signature", strings.TrimPrefix(sig, "v1,")), want: ErrInvalidSignature},
		{name: "v1 without value", header: with("webhook-signature", "v1,"), want: ErrInvalidSignature},
		{name: "v1 short", header: with("webhook-signature", "v1,dawfeoifkpqwoekfpqoekf"), want: ErrInvalidSignature},
		{name: "v1 truncated", header: with("webhook-signature", sig[:8]), want: ErrInvalidSignature},
		{name: "v1 one character short", header: with("webhook-signature", sig[:len(sig)-1]), want: ErrInvalidSignature},
		{name: "v1 one character long", header: with("webhook-signature", sig+"="), want: ErrInvalidSignature},
		{name: "v1 not base64", header: with("webhook-signature", "v1,"+strings.Repeat("!", 44)), want: ErrInvalidSignature},
		{name: "v1 base64url", header: with("webhook-signature", "v1,"+strings.Repeat("-_", 22)), want: ErrInvalidSignature},
		{name: "commas and spaces", header: with("webhook-signature", " , ,, v1 , "), want: ErrInvalidSignature},
		{name: "signature uppercase version", header: with("webhook-signature", "V1,"+strings.TrimPrefix(sig, "v1,")), want: ErrInvalidSignature},

		{name: "zero verifier", v: &WebhookVerifier{}, header: valid, want: ErrInvalidSignature, says: []string{"NewWebhookVerifier"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := tt.v
			if v == nil {
				v = newTestVerifier(t, testSecret)
			}
			b := body
			switch tt.body {
			case "":
			case "-":
				b = nil
			default:
				b = []byte(tt.body)
			}
			checkErr(t, v.Verify(tt.header, b), tt.want, tt.says...)
		})
	}
}

func TestParse(t *testing.T) {
	t.Parallel()
	v := newTestVerifier(t, testSecret)

	e, err := parseSigned(t, v, ticketPayload)
	if err != nil {
		t.Fatal(err)
	}
	if e.ID != "msg_1" || e.Type != EventTicketCreated || !e.Timestamp.Equal(testNow) {
		t.Errorf("Event = %+v, want ID msg_1, ticket.created at %s", e, testNow)
	}
	tk, err := e.Ticket()
	if err != nil {
		t.Fatal(err)
	}
	want := Ticket{ID: "ticket_123", CustomerID: "cust_456", Description: "Leaky faucet", Priority: PriorityHigh}
	if *tk != want {
		t.Errorf("Ticket() = %+v, want %+v", *tk, want)
	}
	if _, err := e.Job(); err == nil || !strings.Contains(err.Error(), `"ticket.created" event carries no job`) {
		t.Errorf("Job() of a ticket event: err = %v, want one naming both", err)
	}
	if _, err := e.Invoice(); err == nil {
		t.Error("Invoice() of a ticket event: no error")
	}

	_, err = v.Parse(http.Header{}, []byte(ticketPayload))
	checkErr(t, err, ErrInvalidSignature)

	for name, body := range map[string]string{
		"not JSON":    `event=ticket.created`,
		"array":       `[]`,
		"null":        `null`,
		"no event":    `{"timestamp":"2024-01-15T10:30:00Z","data":{}}`,
		"bad time":    `{"event":"ticket.created","timestamp":"yesterday","data":{}}`,
		"event a num": `{"event":3,"data":{}}`,
		"truncated":   ticketPayload[:40],
		"trailing":    ticketPayload + ` {}`,
		"bad value":   `{"event":"ticket.created","extra":tru,"data":{}}`,
		"bad data":    `{"event":"widget.spun","data":{"rpm":}}`,
	} {
		if e, err := parseSigned(t, v, body); err == nil || errors.Is(err, ErrInvalidSignature) {
			t.Errorf("%s: Parse = %+v, %v; want a decoding error", name, e, err)
		}
	}
}

func TestEventAccessors(t *testing.T) {
	t.Parallel()
	v := newTestVerifier(t, testSecret)
	event := func(t *testing.T, typ EventType, data string) *Event {
		t.Helper()
		body := []byte(`{"event":"` + string(typ) + `","timestamp":"2024-01-15T10:30:00Z","data":` + data + `}`)
		e, err := v.Parse(signedHeader(t, testSecret, "msg_1", testNow, body), body)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}

	job, err := event(t, EventJobCompleted, `{"id":"job_1","ticketId":"ticket_123","scheduledDate":"2024-02-01T09:00:00Z","status":"completed"}`).Job()
	if err != nil || job.ID != "job_1" || job.Status != JobStatusCompleted || job.ScheduledDate.Day() != 1 {
		t.Errorf("Job() = %+v, %v", job, err)
	}
	inv, err := event(t, EventInvoicePaid, `{"id":"inv_1","customerId":"cust_456","lineItems":[{"itemId":"item_1","quantity":2,"unitPrice":75.00}],"dueDate":"2024-02-01","status":"paid"}`).Invoice()
	if err != nil || inv.ID != "inv_1" || inv.DueDate != (Date{2024, time.February, 1}) ||
		len(inv.LineItems) != 1 || inv.LineItems[0].UnitPrice.String() != "75" {
		t.Errorf("Invoice() = %+v, %v", inv, err)
	}
	est, err := event(t, EventEstimateApproved, `{"id":"est_1","customerId":"cust_456","lineItems":[{"description":"Faucet","quantity":1,"unitPrice":120.50}]}`).Estimate()
	if err != nil || est.ID != "est_1" || len(est.LineItems) != 1 || est.LineItems[0].UnitPrice.String() != "120.5" {
		t.Errorf("Estimate() = %+v, %v", est, err)
	}

	// An event type this package does not know is delivered; a new event of
	// a known kind still decodes.
	if tk, err := event(t, "ticket.deleted", `{"id":"ticket_9"}`).Ticket(); err != nil || tk.ID != "ticket_9" {
		t.Errorf("Ticket() of ticket.deleted = %+v, %v", tk, err)
	}
	unknown := event(t, "widget.spun", `{"rpm":3}`)
	if unknown.Type != "widget.spun" || string(unknown.Data) != `{"rpm":3}` {
		t.Errorf("unknown event = %+v", unknown)
	}
	for name, get := range map[string]func() (any, error){
		"Ticket of an unknown type": func() (any, error) { return unknown.Ticket() },
		"Ticket without data":       func() (any, error) { return event(t, EventTicketCreated, `null`).Ticket() },
		"Ticket of a string":        func() (any, error) { return event(t, EventTicketCreated, `"ticket_1"`).Ticket() },
		"Estimate of an invoice":    func() (any, error) { return event(t, EventInvoiceSent, `{}`).Estimate() },
		"nil event":                 func() (any, error) { return (*Event)(nil).Ticket() },
		"zero event":                func() (any, error) { return new(Event).Job() },
	} {
		if got, err := get(); err == nil {
			t.Errorf("%s = %+v, want an error", name, got)
		}
	}
}

// parseSigned parses body, delivered as msg_1 and signed with testSecret.
func parseSigned(t testing.TB, v *WebhookVerifier, body string) (*Event, error) {
	t.Helper()
	return v.Parse(signedHeader(t, testSecret, "msg_1", testNow, []byte(body)), []byte(body))
}

// handBuilt returns an Event with e's exported fields and a copy of its
// Data, as a caller would build it: its accessors decode Data.
func handBuilt(e *Event) *Event {
	return &Event{ID: e.ID, Type: e.Type, Timestamp: e.Timestamp, Data: bytes.Clone(e.Data)}
}

// records describes what each accessor of e returns, as JSON or an error.
func records(e *Event) string {
	var b strings.Builder
	for _, get := range []func() (any, error){
		func() (any, error) { return e.Ticket() },
		func() (any, error) { return e.Job() },
		func() (any, error) { return e.Invoice() },
		func() (any, error) { return e.Estimate() },
	} {
		v, err := get()
		if err != nil {
			fmt.Fprintf(&b, "error: %v\n", err)
			continue
		}
		j, err := json.Marshal(v)
		fmt.Fprintf(&b, "%s %v\n", j, err)
	}
	return b.String()
}

// TestParseDecodesRecordOnce: Parse decodes the record with the rest of the
// payload where it can, and wherever it cannot, the accessors answer as they
// do for an Event built by hand, errors included.
func TestParseDecodesRecordOnce(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		body     string
		once     bool   // Parse decoded the ticket
		ticketID string // of Ticket(), when it succeeds
		says     string // of Ticket()'s error, when it fails
	}{
		{name: "type before data", body: ticketPayload, once: true, ticketID: "ticket_123"},
		{name: "data before type", body: `{"data":{"id":"ticket_1"},"timestamp":"2024-01-15T10:30:00Z","event":"ticket.created"}`,
			once: true, ticketID: "ticket_1"},
		{name: "keys in capitals", body: `{"EVENT":"ticket.created","Data":{"id":"ticket_1"}}`, once: true, ticketID: "ticket_1"},
		{name: "space everywhere", body: " \r\n{ \"event\" :\t\"ticket.created\" , \"data\" : { \"id\" : \"ticket_1\" } }\n",
			once: true, ticketID: "ticket_1"},
		{name: "quotes and braces in strings", body: `{"event":"ticket.created","data":{"id":"ticket_1","description":"a \\\"}\\\\"},"x":"}"}`,
			once: true, ticketID: "ticket_1"},
		{name: "escape in the type", body: `{"event":"ticket\u002ecreated","data":{"id":"ticket_1"}}`, ticketID: "ticket_1"},
		{name: "escape in a key", body: `{"event":"ticket.created","\u0064ata":{"id":"ticket_1"}}`, ticketID: "ticket_1"},
		{name: "data twice: the last counts", body: `{"event":"ticket.created","data":{"id":"ticket_1","description":"first"},"data":{"id":"ticket_2"}}`,
			ticketID: "ticket_2"},
		{name: "type twice: the last counts", body: `{"event":"job.created","data":{"id":"ticket_1"},"event":"ticket.created"}`,
			ticketID: "ticket_1"},
		{name: "not a ticket", body: `{"event":"ticket.created","data":{"id":"ticket_1","priority":5}}`,
			says: `"ticket.created" event data is not a ticket: json: cannot unmarshal number into Go struct field Ticket.priority`},
		{name: "bad time in the ticket", body: `{"event":"ticket.created","data":{"id":"ticket_1","createdAt":"yesterday"}}`,
			says: `"ticket.created" event data is not a ticket: parsing time`},
		{name: "data a string", body: `{"event":"ticket.created","data":"ticket_1"}`, says: "json: cannot unmarshal string"},
		{name: "data null", body: `{"event":"ticket.created","data":null}`, says: `"ticket.created" event has no data`},
		{name: "no data", body: `{"event":"ticket.created"}`, says: `"ticket.created" event has no data`},
		{name: "unknown type", body: `{"event":"widget.spun","data":{"id":"ticket_1"}}`, says: `a "widget.spun" event carries no ticket`},
	}
	v := newTestVerifier(t, testSecret)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e, err := parseSigned(t, v, tt.body)
			if err != nil {
				t.Fatal(err)
			}
			if once := e.decoded != nil; once != tt.once {
				t.Errorf("Parse decoded the ticket: %t, want %t", once, tt.once)
			}
			tk, err := e.Ticket()
			switch {
			case tt.says == "" && (err != nil || tk.ID != tt.ticketID):
				t.Errorf("Ticket() = %+v, %v; want ID %s", tk, err, tt.ticketID)
			case tt.says != "" && (err == nil || !strings.Contains(err.Error(), tt.says)):
				t.Errorf("Ticket() = %+v, %v; want an error saying %s", tk, err, tt.says)
			}
			if got, want := records(e), records(handBuilt(e)); got != want {
				t.Errorf("accessors of the parsed event:\n%s\nof the same event built by hand:\n%s", got, want)
			}
		})
	}
}

// TestEventFieldsAreThoseParseReads: decodeEventOnce fills Event from
// payload.Scan, which finds "event", "timestamp" and "data" only, and
// FuzzParse compares those fields by name. A field added to Event would be
// left empty by Parse with no test failing, unless both learn of it.
func TestEventFieldsAreThoseParseReads(t *testing.T) {
	var keys []string
	for f := range reflect.TypeFor[Event]().Fields() {
		if f.IsExported() {
			keys = append(keys, f.Tag.Get("json"))
		}
	}
	if got := strings.Join(keys, " "); got != "- event timestamp data" {
		t.Errorf("Event's JSON keys are %s; teach payload.Scan, decodeEventOnce and FuzzParse the new ones", got)
	}
}

// TestEventAccessorsReturnCopies: the caller may change what an accessor
// returns, from any goroutine, without changing the Event.
func TestEventAccessorsReturnCopies(t *testing.T) {
	t.Parallel()
	v := newTestVerifier(t, testSecret)
	e, err := parseSigned(t, v, `{"event":"invoice.paid","data":{"id":"inv_1","lineItems":[{"itemId":"item_1","quantity":2,"unitPrice":75.00}]}}`)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			in, err := e.Invoice()
			if err != nil {
				t.Error(err)
				return
			}
			in.ID, in.LineItems[0].ItemID = "changed", "changed"
		})
	}
	wg.Wait()
	first, _ := e.Invoice()
	second, err := e.Invoice()
	if err != nil || first == second || second.ID != "inv_1" || second.LineItems[0].ItemID != "item_1" {
		t.Errorf("Invoice() after changes to earlier results = %+v (%p, and %p before), %v; want inv_1 with item_1, a new value",
			second, second, first, err)
	}
}

// TestEventDataReplaced: an accessor decodes Data when it is no longer the
// Data that Parse decoded; a copy of the Event keeps Parse's work.
func TestEventDataReplaced(t *testing.T) {
	t.Parallel()
	v := newTestVerifier(t, testSecret)
	e, err := parseSigned(t, v, ticketPayload)
	if err != nil {
		t.Fatal(err)
	}
	copied := *e
	if tk, err := copied.Ticket(); err != nil || tk.ID != "ticket_123" {
		t.Errorf("Ticket() of a copy = %+v, %v; want ticket_123", tk, err)
	}
	e.Data = json.RawMessage(`{"id":"ticket_9"}`)
	if tk, err := e.Ticket(); err != nil || tk.ID != "ticket_9" {
		t.Errorf("Ticket() after Data was replaced = %+v, %v; want ticket_9", tk, err)
	}
	e.Data = e.Data[:0]
	if tk, err := e.Ticket(); err == nil {
		t.Errorf("Ticket() after Data was emptied = %+v, want an error", tk)
	}
}

// deliveryRequest returns a POST of body signed with testSecret at ts.
func deliveryRequest(t testing.TB, id string, ts time.Time, body string) *http.Request {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/webhooks/blueclerk", strings.NewReader(body))
	for k, vs := range signedHeader(t, testSecret, id, ts, []byte(body)) {
		r.Header[k] = vs
	}
	return r
}

func TestParseRequestBodyLimit(t *testing.T) {
	t.Parallel()
	// A valid event of exactly n bytes.
	eventOf := func(n int) string {
		s := `{"event":"ticket.created","timestamp":"2024-01-15T10:30:00Z","data":{"description":""}}`
		return strings.Replace(s, `""`, `"`+strings.Repeat("x", n-len(s))+`"`, 1)
	}
	tests := []struct {
		name    string
		max     int64
		size    int
		chunked bool // no Content-Length
		tooBig  bool
	}{
		{name: "1 MiB by default", size: 1 << 20},
		{name: "1 MiB and a byte", size: 1<<20 + 1, tooBig: true},
		{name: "1 MiB and a byte, chunked", size: 1<<20 + 1, chunked: true, tooBig: true},
		{name: "configured, at the limit", max: 200, size: 200},
		{name: "configured, at the limit, chunked", max: 200, size: 200, chunked: true},
		{name: "configured, over", max: 200, size: 201, tooBig: true},
		{name: "configured, over, chunked", max: 200, size: 201, chunked: true, tooBig: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := newTestVerifier(t, testSecret)
			v.MaxBodyBytes = tt.max
			body := eventOf(tt.size)
			r := deliveryRequest(t, "msg_1", testNow, body)
			if tt.chunked {
				r.ContentLength = -1
			}
			e, err := v.ParseRequest(r)
			if !tt.tooBig {
				if err != nil || len(e.Data) == 0 {
					t.Fatalf("ParseRequest = %+v, %v", e, err)
				}
				return
			}
			if _, ok := errors.AsType[*http.MaxBytesError](err); !ok || !strings.Contains(err.Error(), "MaxBodyBytes") {
				t.Fatalf("ParseRequest err = %v, want a *http.MaxBytesError naming MaxBodyBytes", err)
			}
		})
	}

	v := newTestVerifier(t, testSecret)
	r := deliveryRequest(t, "msg_1", testNow, ticketPayload)
	r.Body = nil
	if _, err := v.ParseRequest(r); !errors.Is(err, ErrInvalidSignature) {
		t.Errorf("ParseRequest without a body: err = %v, want ErrInvalidSignature (the signature was over another body)", err)
	}
}

// fakeStore is a DeliveryStore that records the calls and can fail.
type fakeStore struct {
	mu       sync.Mutex
	state    DeliveryState
	err      error
	finishes []bool
	ctxErrs  []error
}

func (s *fakeStore) Claim(context.Context, string) (DeliveryState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state, s.err
}

func (s *fakeStore) Finish(ctx context.Context, _ string, handled bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.finishes = append(s.finishes, handled)
	s.ctxErrs = append(s.ctxErrs, ctx.Err())
	return errors.New("the store is down")
}

func TestHandlerStatus(t *testing.T) {
	t.Parallel()
	errFn := errors.New("database password is hunter2")
	tests := []struct {
		name    string
		req     func(t *testing.T) *http.Request
		setup   func(v *WebhookVerifier)
		fnErr   error
		nilFn   bool
		status  int
		calls   int
		says    string
		notSays string
	}{
		{name: "delivered", status: http.StatusNoContent, calls: 1},
		{name: "GET", req: func(t *testing.T) *http.Request {
			return httptest.NewRequest(http.MethodGet, "/webhooks/blueclerk", nil)
		}, status: http.StatusMethodNotAllowed},
		{name: "PUT, signed", req: func(t *testing.T) *http.Request {
			r := deliveryRequest(t, "msg_1", testNow, ticketPayload)
			r.Method = http.MethodPut
			return r
		}, status: http.StatusMethodNotAllowed},
		{name: "bad signature", req: func(t *testing.T) *http.Request {
			r := deliveryRequest(t, "msg_1", testNow, ticketPayload)
			r.Header.Set("Webhook-Signature", vectorWrongSignature)
			return r
		}, status: http.StatusUnauthorized, says: "invalid webhook signature"},
		{name: "unsigned", req: func(t *testing.T) *http.Request {
			return httptest.NewRequest(http.MethodPost, "/webhooks/blueclerk", strings.NewReader(ticketPayload))
		}, status: http.StatusUnauthorized, says: "missing webhook-id header"},
		{name: "stale", req: func(t *testing.T) *http.Request {
			return deliveryRequest(t, "msg_1", testNow.Add(-time.Hour), ticketPayload)
		}, status: http.StatusUnauthorized, says: "timestamp"},
		{name: "duplicate header", req: func(t *testing.T) *http.Request {
			r := deliveryRequest(t, "msg_1", testNow, ticketPayload)
			r.Header.Add("Webhook-Id", "msg_2")
			return r
		}, status: http.StatusUnauthorized},
		{name: "not an event", req: func(t *testing.T) *http.Request {
			return deliveryRequest(t, "msg_1", testNow, `{"hello":"world"}`)
		}, status: http.StatusBadRequest},
		{name: "too large", setup: func(v *WebhookVerifier) { v.MaxBodyBytes = 100 }, status: http.StatusRequestEntityTooLarge},
		{name: "too large, chunked", setup: func(v *WebhookVerifier) { v.MaxBodyBytes = 100 }, req: func(t *testing.T) *http.Request {
			r := deliveryRequest(t, "msg_1", testNow, ticketPayload)
			r.ContentLength = -1
			return r
		}, status: http.StatusRequestEntityTooLarge},
		{name: "fn fails", fnErr: errFn, status: http.StatusInternalServerError, calls: 1, notSays: "hunter2"},
		{name: "nil fn", nilFn: true, status: http.StatusInternalServerError},
		{name: "store fails", setup: func(v *WebhookVerifier) {
			v.Deliveries = &fakeStore{err: errors.New("redis: connection refused")}
		}, status: http.StatusServiceUnavailable, notSays: "redis"},
		{name: "store answers nonsense", setup: func(v *WebhookVerifier) {
			v.Deliveries = &fakeStore{state: 7}
		}, status: http.StatusServiceUnavailable},
		{name: "store: in progress", setup: func(v *WebhookVerifier) {
			v.Deliveries = &fakeStore{state: DeliveryInProgress}
		}, status: http.StatusConflict},
		{name: "store: done", setup: func(v *WebhookVerifier) {
			v.Deliveries = &fakeStore{state: DeliveryDone}
		}, status: http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := newTestVerifier(t, testSecret)
			if tt.setup != nil {
				tt.setup(v)
			}
			var calls atomic.Int32
			fn := func(context.Context, *Event) error {
				calls.Add(1)
				return tt.fnErr
			}
			if tt.nilFn {
				fn = nil
			}
			r := deliveryRequest(t, "msg_1", testNow, ticketPayload)
			if tt.req != nil {
				r = tt.req(t)
			}
			w := httptest.NewRecorder()
			v.Handler(fn).ServeHTTP(w, r)
			if w.Code != tt.status || int(calls.Load()) != tt.calls {
				t.Errorf("status %d, fn called %d times; want %d, %d (body %q)", w.Code, calls.Load(), tt.status, tt.calls, w.Body)
			}
			if tt.status == http.StatusMethodNotAllowed && w.Header().Get("Allow") != http.MethodPost {
				t.Errorf("Allow: %q, want POST", w.Header().Get("Allow"))
			}
			if !strings.Contains(w.Body.String(), tt.says) {
				t.Errorf("body %q, want it to say %q", w.Body, tt.says)
			}
			if tt.notSays != "" && strings.Contains(w.Body.String(), tt.notSays) {
				t.Errorf("body %q reveals %q", w.Body, tt.notSays)
			}
		})
	}
}

// deliver sends a delivery of ticketPayload with id, signed at now, to h
// and returns the status.
func deliver(t testing.TB, h http.Handler, id string, now time.Time) int {
	t.Helper()
	return deliverSigned(h, signedHeader(t, testSecret, id, now, []byte(ticketPayload)))
}

// deliverSigned sends ticketPayload with the headers hdr to h and returns
// the status. Unlike deliver, it may run outside the test's goroutine.
func deliverSigned(h http.Handler, hdr http.Header) int {
	r := httptest.NewRequest(http.MethodPost, "/webhooks/blueclerk", strings.NewReader(ticketPayload))
	r.Header = hdr.Clone()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Code
}

func TestHandlerRunsAgainAfterFailure(t *testing.T) {
	t.Parallel()
	v := newTestVerifier(t, testSecret)
	var calls atomic.Int32
	h := v.Handler(func(ctx context.Context, e *Event) error {
		if calls.Add(1) == 1 {
			return errors.New("temporarily failing")
		}
		return nil
	})
	for i, want := range []struct{ status, calls int }{
		{http.StatusInternalServerError, 1},
		{http.StatusNoContent, 2},
		{http.StatusOK, 2},
		{http.StatusOK, 2},
	} {
		if got := deliver(t, h, "msg_1", testNow); got != want.status || int(calls.Load()) != want.calls {
			t.Errorf("delivery %d: status %d, fn called %d times; want %d, %d", i+1, got, calls.Load(), want.status, want.calls)
		}
	}
	if got := deliver(t, h, "msg_2", testNow); got != http.StatusNoContent || calls.Load() != 3 {
		t.Errorf("another id: status %d, fn called %d times; want 204, 3", got, calls.Load())
	}
}

// lockedBuffer is a bytes.Buffer that a server's log and a test may use at
// once.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// loopbackHandler serves h on a loopback server whose error log is
// returned, closed when t ends.
func loopbackHandler(t *testing.T, h http.Handler) (*httptest.Server, *lockedBuffer) {
	t.Helper()
	logged := new(lockedBuffer)
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(logged, "", 0)
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, logged
}

// postDelivery POSTs ticketPayload with id, signed with testSecret at
// testNow, to srv, and returns the status.
func postDelivery(t *testing.T, srv *httptest.Server, id string) (int, error) {
	t.Helper()
	r, err := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL, strings.NewReader(ticketPayload))
	if err != nil {
		t.Fatal(err)
	}
	r.Header = signedHeader(t, testSecret, id, testNow, []byte(ticketPayload))
	resp, err := srv.Client().Do(r)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

// TestHandlerPanic: a panic in fn is answered 500 over a real connection,
// not a dropped one, and is logged without the delivery's content; fn may
// still abort the response with http.ErrAbortHandler, as any handler may.
// Either way the claim is forgotten, so that a redelivery runs fn again.
func TestHandlerPanic(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		value any
		abort bool
	}{
		{name: "a value", value: "fn broke"},
		{name: "http.ErrAbortHandler", value: http.ErrAbortHandler, abort: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := newTestVerifier(t, testSecret)
			var calls atomic.Int32
			srv, logged := loopbackHandler(t, v.Handler(func(ctx context.Context, e *Event) error {
				if calls.Add(1) == 1 {
					panic(tt.value)
				}
				return nil
			}))

			status, err := postDelivery(t, srv, "msg_1")
			log := logged.String()
			switch {
			case tt.abort && err == nil:
				t.Fatalf("fn aborted: status %d, want the connection dropped", status)
			case tt.abort && log != "":
				t.Errorf("an abort was logged: %q", log)
			case !tt.abort && (err != nil || status != http.StatusInternalServerError):
				t.Fatalf("fn panicked: status %d, err %v; want 500", status, err)
			case !tt.abort:
				for _, want := range []string{"panic", "msg_1", "fn broke", "webhooks_test.go"} {
					if !strings.Contains(log, want) {
						t.Errorf("server log %q does not say %q", log, want)
					}
				}
				key, _ := decodeSecret(testSecret)
				sig := signedHeader(t, testSecret, "msg_1", testNow, []byte(ticketPayload)).Get("Webhook-Signature")
				for _, secret := range []string{"Leaky faucet", "cust_456", strings.TrimPrefix(sig, "v1,"), string(key), strings.TrimPrefix(testSecret, "whsec_")} {
					if strings.Contains(log, secret) {
						t.Errorf("server log %q shows %q", log, secret)
					}
				}
			}

			if status, err := postDelivery(t, srv, "msg_1"); err != nil || status != http.StatusNoContent || calls.Load() != 2 {
				t.Errorf("redelivery: status %d, err %v, fn called %d times; want 204, 2", status, err, calls.Load())
			}
		})
	}
}

func TestHandlerFinishesOutlivingTheRequest(t *testing.T) {
	t.Parallel()
	for _, fnErr := range []error{nil, errors.New("failed")} {
		store := &fakeStore{state: DeliveryNew}
		v := newTestVerifier(t, testSecret)
		v.Deliveries = store
		ctx, cancel := context.WithCancel(context.Background())
		h := v.Handler(func(context.Context, *Event) error {
			cancel() // the sender hung up while fn ran
			return fnErr
		})
		w := httptest.NewRecorder()
		h.ServeHTTP(w, deliveryRequest(t, "msg_1", testNow, ticketPayload).WithContext(ctx))
		want := http.StatusNoContent // fn ran: a store failing to record it is no reason to run it again
		if fnErr != nil {
			want = http.StatusInternalServerError
		}
		if w.Code != want || len(store.finishes) != 1 || store.finishes[0] != (fnErr == nil) || store.ctxErrs[0] != nil {
			t.Errorf("fn error %v: status %d, Finish calls %v with ctx errors %v; want %d, one Finish(handled=%t) with a live ctx",
				fnErr, w.Code, store.finishes, store.ctxErrs, want, fnErr == nil)
		}
	}
}

func TestHandlerConcurrentDuplicatesWhileRunning(t *testing.T) {
	defer goleak.VerifyNone(t)
	v := newTestVerifier(t, testSecret)
	var calls atomic.Int32
	release := make(chan struct{})
	h := v.Handler(func(context.Context, *Event) error {
		if calls.Add(1) == 1 {
			<-release // only the first call blocks, so that a second one fails the test, not hangs it
		}
		return nil
	})

	const n = 50
	hdr := signedHeader(t, testSecret, "msg_1", testNow, []byte(ticketPayload))
	statuses := make(chan int, n)
	for range n {
		go func() { statuses <- deliverSigned(h, hdr) }()
	}
	// fn blocks until released, so every delivery but the one running it
	// answers while it runs: with 409, never with 2xx.
	got := map[int]int{}
	for range n - 1 {
		got[<-statuses]++
	}
	close(release)
	got[<-statuses]++
	if got[http.StatusConflict] != n-1 || got[http.StatusNoContent] != 1 || calls.Load() != 1 {
		t.Errorf("statuses %v, fn called %d times; want %d×409, 1×204, one call", got, calls.Load(), n-1)
	}
	if s := deliver(t, h, "msg_1", testNow); s != http.StatusOK || calls.Load() != 1 {
		t.Errorf("redelivery after success: status %d, fn called %d times; want 200, 1", s, calls.Load())
	}
}

func TestHandlerConcurrentDuplicates(t *testing.T) {
	defer goleak.VerifyNone(t)
	h, calls := countingHandler(newTestVerifier(t, testSecret))
	const n = 50
	hdr := signedHeader(t, testSecret, "msg_1", testNow, []byte(ticketPayload))
	var wg sync.WaitGroup
	var mu sync.Mutex
	got := map[int]int{}
	for range n {
		wg.Go(func() {
			s := deliverSigned(h, hdr)
			mu.Lock()
			got[s]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if calls.Load() != 1 || got[http.StatusNoContent] != 1 || got[http.StatusOK]+got[http.StatusConflict] != n-1 {
		t.Errorf("statuses %v, fn called %d times; want one 204, the rest 200 or 409, one call", got, calls.Load())
	}
}

// countingHandler returns v's Handler with an fn that succeeds and counts
// its calls.
func countingHandler(v *WebhookVerifier) (http.Handler, *atomic.Int32) {
	calls := new(atomic.Int32)
	return v.Handler(func(context.Context, *Event) error {
		calls.Add(1)
		return nil
	}), calls
}

// expectDelivery delivers msg_1, signed at time.Now, to h and checks the
// status and how often fn has been called so far.
func expectDelivery(t *testing.T, h http.Handler, calls *atomic.Int32, what string, wantStatus, wantCalls int) {
	t.Helper()
	if got := deliver(t, h, "msg_1", time.Now()); got != wantStatus || int(calls.Load()) != wantCalls {
		t.Errorf("%s: status %d, fn called %d times; want %d, %d", what, got, calls.Load(), wantStatus, wantCalls)
	}
}

// TestHandlerForgetsAfterADay runs on synctest's clock: the verifier and
// the default store read time.Now.
func TestHandlerForgetsAfterADay(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		v, err := NewWebhookVerifier(testSecret)
		if err != nil {
			t.Fatal(err)
		}
		h, calls := countingHandler(v)
		expectDelivery(t, h, calls, "first delivery", http.StatusNoContent, 1)
		time.Sleep(time.Hour)
		expectDelivery(t, h, calls, "an hour later", http.StatusOK, 1)
		time.Sleep(23*time.Hour - time.Second)
		expectDelivery(t, h, calls, "almost a day later", http.StatusOK, 1)
		time.Sleep(time.Second)
		expectDelivery(t, h, calls, "a day later", http.StatusNoContent, 2)
	})
}

// TestHandlerTakesOverAbandonedClaim: a claim never finished (in a shared
// store, the process that held it died) stops blocking after 10 minutes.
func TestHandlerTakesOverAbandonedClaim(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		v, err := NewWebhookVerifier(testSecret)
		if err != nil {
			t.Fatal(err)
		}
		h, calls := countingHandler(v)
		if st, err := v.deliveries().Claim(t.Context(), "msg_1"); st != DeliveryNew || err != nil {
			t.Fatalf("Claim = %v, %v", st, err)
		}
		time.Sleep(10*time.Minute - time.Second)
		expectDelivery(t, h, calls, "while claimed", http.StatusConflict, 0)
		time.Sleep(time.Second)
		expectDelivery(t, h, calls, "claim abandoned", http.StatusNoContent, 1)
	})
}

// TestParseKeepsItsOwnBytes: an Event does not share the caller's body, so
// a buffer reused for the next delivery changes neither Data nor the record.
func TestParseKeepsItsOwnBytes(t *testing.T) {
	body := []byte(`{"event":"ticket.created","timestamp":"2024-01-15T10:30:00Z","data":{"id":"ticket_1","description":"Leak"}}`)
	e, err := newTestVerifier(t, testSecret).Parse(signedHeader(t, testSecret, "msg_1", testNow, body), body)
	if err != nil {
		t.Fatal(err)
	}
	for i := range body {
		body[i] = 'x'
	}
	if got := string(e.Data); got != `{"id":"ticket_1","description":"Leak"}` {
		t.Errorf("Data = %s after the body was overwritten", got)
	}
	tk, err := e.Ticket()
	if err != nil || tk.ID != "ticket_1" {
		t.Errorf("Ticket() = %+v, %v after the body was overwritten", tk, err)
	}
}
